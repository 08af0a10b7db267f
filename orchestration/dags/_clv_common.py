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
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

# The repository root (orchestration/dags/ is two levels down) unless CLV_PROJECT_DIR says otherwise.
PROJECT_DIR = Path(os.environ.get("CLV_PROJECT_DIR", Path(__file__).resolve().parents[2]))
# Where `dbt` and `clv-jobs` are installed: the project's venv by default.
BIN_DIR = Path(os.environ.get("CLV_BIN_DIR", PROJECT_DIR / ".venv" / "bin"))

log = logging.getLogger(__name__)


def as_of_date(ds: str) -> str:
    """The month end on or before the run's logical date: the as-of spine is month ends, so a
    nightly run in the middle of a month rescores the last month end (idempotently). The rule
    is the project's own (`clv_jobs.dates`, standard library only, imported from its folder)."""
    if str(PROJECT_DIR / "python_jobs") not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR / "python_jobs"))
    from clv_jobs.dates import month_end_on_or_before

    return str(month_end_on_or_before(date.fromisoformat(ds)))


def dbt(*args: str) -> str:
    """`clv-jobs dbt ...`: the project's one dbt invocation helper, holding the lake's writer
    lock, so a build never overlaps a score, monitor, train or load, from a DAG or a terminal."""
    return clv_jobs("dbt", *args)


def clv_jobs(*args: str) -> str:
    return " ".join([shlex.quote(str(BIN_DIR / "clv-jobs")), *map(shlex.quote, args)])


# A failure of these tasks means a critical data-quality check failed (dbt's tests); of any
# other, the pipeline failed. Both are high-tier alerts. check_landing and the freshness checks
# raise their own (a quarantined file: high, a restatement: low; a stale source: high, naming
# it), so the callback does not repeat them.
DATA_QUALITY_TASKS = ("dbt_build_warehouse",)
SELF_ALERTING_TASKS = ("check_landing", "source_freshness", "ml_freshness")


def notify_failure(context) -> None:
    """Failure callback: a high-tier alert through `clv-jobs alert` (routed to the high topic,
    CLV_ALERT_TOPIC_ARN_HIGH, else printed; landed in fct_alerts), and the `FailedTasks` metric
    the Terraform alarm watches when alerting is configured (CLV_ALERT_TOPIC_ARN_HIGH set)."""
    ti = context["task_instance"]
    message = {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": context.get("run_id"),
        "try_number": ti.try_number,
        "exception": repr(context.get("exception")),
    }
    log.error("clv-warehouse task failed: %s", json.dumps(message))
    if ti.task_id in SELF_ALERTING_TASKS:
        return
    rule = "data_quality_failed" if ti.task_id in DATA_QUALITY_TASKS else "pipeline_failed"
    command = [str(BIN_DIR / "clv-jobs"), "alert", "--tier", "high", "--rule", rule, "--raised-by", ti.dag_id]
    command += ["--message", f"{ti.dag_id}.{ti.task_id} failed (try {ti.try_number}): {message['exception']}"[:4000]]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        log.error("clv-jobs alert failed: %s", result.stderr[-2000:])
    if os.environ.get("CLV_ALERT_TOPIC_ARN_HIGH"):
        import boto3  # only where alerts are configured

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
