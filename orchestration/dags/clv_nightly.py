"""clv_nightly: the nightly Airflow DAG of clv-warehouse.

check landing (each new raw file against its contract; rejects go to the quarantine) -> source
freshness of every landing at the end of the day before the logical date (a stale source stops
the run here, before the build and scoring, with a high-tier alert naming it) -> dbt build
(staging, features, labels and their tests; the per-as-of-date models rebuild only the dates
whose inputs changed, ADR 0017) -> score yesterday, the last day the landings cover
(a day off the month-end spine has its features built on demand, ADR 0016) -> monitor it
(drift, 30-day proxy, matured backtests, retrain decision, alerts) -> publish the ML marts ->
the freshness of what the night landed itself (scores, drift, monitor and pipeline runs; one
that fell behind is a high-tier alert naming it) and, beside it, when `retrain-needed` finds
that a retrain could clear the monitor's alert (newer matured labels, a proxy drop, a failed
gate), trigger clv_weekly_training; when it could not, the alert is raised for a person instead.

A quarantined file fails check_landing (no retries: check-landing raises a high-tier alert
naming the file), and the build still runs on the files that passed (trigger rule all_done): the
quarantined ones are already out of the lake's raw tables, and dbt's ledger test stops the build
if check_landing did not run at all.

Monitor runs before publish (the issue lists publish first) so that a night's drift and
backtests are published the same night; the ML marts read the monitor's lake partitions.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG

# The shared helpers sit beside the DAGs; not every Airflow process puts this folder on sys.path.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from _clv_common import BASH_KWARGS, DEFAULT_ARGS, clv_jobs, dbt

# The run at 02:00 on day D judges the landings as they stood at the end of D - 1, and scores
# and monitors that day.
LANDED_THROUGH = AS_OF = "{{ macros.ds_add(ds, -1) }}"

with DAG(
    dag_id="clv_nightly",
    description="Freshness, dbt build, score, monitor, publish; retrain on a drift alert",
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clv"],
) as dag:
    check_landing = BashOperator(
        task_id="check_landing", bash_command=clv_jobs("check-landing"), retries=0, **BASH_KWARGS
    )
    source_freshness = BashOperator(
        task_id="source_freshness",
        bash_command=clv_jobs("freshness", "--as-of-date", LANDED_THROUGH),
        trigger_rule="all_done",
        retries=0,
        **BASH_KWARGS,
    )
    build_warehouse = BashOperator(task_id="dbt_build_warehouse", bash_command=dbt("build"), **BASH_KWARGS)
    score = BashOperator(task_id="score", bash_command=clv_jobs("score", "--as-of-date", AS_OF), **BASH_KWARGS)
    monitor = BashOperator(task_id="monitor", bash_command=clv_jobs("monitor", "--as-of-date", AS_OF), **BASH_KWARGS)
    publish = BashOperator(
        task_id="publish_ml_marts", bash_command=dbt("build", "--selector", "ml_marts"), **BASH_KWARGS
    )
    ml_freshness = BashOperator(
        task_id="ml_freshness",
        bash_command=clv_jobs("freshness", "--ml", "--as-of-date", AS_OF),
        retries=0,
        **BASH_KWARGS,
    )
    # Exit 0 when the monitor recommends retraining, 99 (Airflow: skipped) when it does not.
    retrain_needed = BashOperator(
        task_id="retrain_needed",
        bash_command=clv_jobs("retrain-needed", "--as-of-date", AS_OF),
        skip_on_exit_code=99,
        retries=0,
        **BASH_KWARGS,
    )
    trigger_training = TriggerDagRunOperator(
        task_id="trigger_training", trigger_dag_id="clv_weekly_training", wait_for_completion=False
    )

    (
        check_landing
        >> source_freshness
        >> build_warehouse
        >> score
        >> monitor
        >> publish
        >> retrain_needed
        >> trigger_training
    )
    publish >> ml_freshness
