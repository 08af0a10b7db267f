"""clv_weekly_training: the weekly training Airflow DAG of clv-warehouse (also triggered by
clv_nightly when the monitor recommends retraining).

dbt build (fresh training examples) -> train (evaluate against the baselines, apply the gates,
register: champion, challenger or rejected) -> evaluate the champion on the current test date ->
publish the ML marts (the decision and the evaluations become tables).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

# The shared helpers sit beside the DAGs; not every Airflow process puts this folder on sys.path.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from _clv_common import BASH_KWARGS, DEFAULT_ARGS, clv_jobs, dbt

with DAG(
    dag_id="clv_weekly_training",
    description="dbt build, train + gate + register, evaluate the champion, publish",
    schedule="0 4 * * 0",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["clv"],
) as dag:
    build_warehouse = BashOperator(task_id="dbt_build_warehouse", bash_command=dbt("build"), **BASH_KWARGS)
    train = BashOperator(task_id="train_gate_register", bash_command=clv_jobs("train"), **BASH_KWARGS)
    evaluate = BashOperator(task_id="evaluate_champion", bash_command=clv_jobs("evaluate"), **BASH_KWARGS)
    publish = BashOperator(
        task_id="publish_ml_marts", bash_command=dbt("build", "--selector", "ml_marts"), **BASH_KWARGS
    )

    build_warehouse >> train >> evaluate >> publish
