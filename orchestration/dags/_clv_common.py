"""Shared pieces of the clv-warehouse Airflow DAGs: where the project lives, the as-of date of a
run, the commands, default task arguments and the failure callback.

No Airflow import and no work at import time (the scheduler parses DAG files often). The file
name starts with "_" and has no DAG, so the DAG processor skips it.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from datetime import date, timedelta
from pathlib import Path

# The repository root (orchestration/dags/ is two levels down) unless CLV_PROJECT_DIR says otherwise.
PROJECT_DIR = Path(os.environ.get("CLV_PROJECT_DIR", Path(__file__).resolve().parents[2]))
# Where `dbt` and `clv-jobs` are installed: the project's venv by default.
BIN_DIR = Path(os.environ.get("CLV_BIN_DIR", PROJECT_DIR / ".venv" / "bin"))

log = logging.getLogger(__name__)


def as_of_date(ds: str) -> str:
    """The month end on or before the run's logical date: the as-of spine is month ends, so a
    nightly run in the middle of a month rescores the last month end (idempotently)."""
    day = date.fromisoformat(ds)
    following = day + timedelta(days=1)
    return str(day if following.day == 1 else following.replace(day=1) - timedelta(days=1))


def dbt(*args: str) -> str:
    """A dbt command that holds the lake's writer lock (`clv-jobs locked --`), so it never
    overlaps a score, monitor, train or load, from this DAG or a person at a terminal."""
    return " ".join(
        [
            shlex.quote(str(BIN_DIR / "clv-jobs")),
            "locked",
            "--",
            shlex.quote(str(BIN_DIR / "dbt")),
            *map(shlex.quote, args),
        ]
    )


def clv_jobs(*args: str) -> str:
    return " ".join([shlex.quote(str(BIN_DIR / "clv-jobs")), *args])


def notify_failure(context) -> None:
    """Failure callback: log the failed task; publish to SNS when CLV_ALERT_TOPIC_ARN is set
    (Terraform creates the topic and its CloudWatch alarms)."""
    ti = context["task_instance"]
    message = {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": context.get("run_id"),
        "try_number": ti.try_number,
        "exception": repr(context.get("exception")),
    }
    log.error("clv-warehouse task failed: %s", json.dumps(message))
    topic = os.environ.get("CLV_ALERT_TOPIC_ARN")
    if topic:
        import boto3  # only where alerts are configured

        boto3.client("sns").publish(TopicArn=topic, Subject="clv-warehouse task failed", Message=json.dumps(message))
        boto3.client("cloudwatch").put_metric_data(
            Namespace="clv-warehouse", MetricData=[{"MetricName": "FailedTasks", "Value": 1, "Unit": "Count"}]
        )


DEFAULT_ARGS = {
    "owner": "clv-warehouse",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": notify_failure,
}

# Every task runs in the project directory with the caller's environment plus the dbt target
# (CLV_DBT_TARGET, CLV_LAKE_DIR, ... come from the worker's environment).
BASH_KWARGS = {"cwd": str(PROJECT_DIR), "append_env": True, "env": {"DBT_PROFILES_DIR": str(PROJECT_DIR)}}
