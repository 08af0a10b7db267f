"""clv_weekly_training: the weekly training and promotion Airflow DAG of clv-warehouse (also
triggered by clv_nightly when a retrain could clear the monitor's alert).

dbt build (fresh training examples) -> train (evaluate against the baselines, apply the gates,
register: champion, challenger or rejected; the registered model refits on the newest matured
as-of date) -> evaluate the champion on the current test date -> shadow the challenger beside the
champion at the month end of the run (skipped when no challenger waits) -> a person approves or
rejects it (the human-in-the-loop ApprovalOperator of apache-airflow-providers-standard, with
their reason) -> the approval is recorded -> promote -> publish the ML marts. The next scoring
run (clv_nightly) uses the new champion.

A rejection skips the recording and the promotion; publish still runs, so the shadow verdict and
the decisions reach fct_model_decisions either way.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Param

# The shared helpers sit beside the DAGs; not every Airflow process puts this folder on sys.path.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from _clv_common import BASH_KWARGS, DEFAULT_ARGS, as_of_date, clv_jobs, dbt

AS_OF = "{{ clv_as_of_date(ds) }}"
APPROVAL = "ti.xcom_pull(task_ids='approve_promotion')"

with DAG(
    dag_id="clv_weekly_training",
    description="dbt build, train + gate + register, shadow the challenger, approval, promote, publish",
    schedule="0 4 * * 0",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    user_defined_macros={"clv_as_of_date": as_of_date},
    tags=["clv"],
) as dag:
    build_warehouse = BashOperator(task_id="dbt_build_warehouse", bash_command=dbt("build"), **BASH_KWARGS)
    train = BashOperator(task_id="train_gate_register", bash_command=clv_jobs("train"), **BASH_KWARGS)
    evaluate = BashOperator(task_id="evaluate_champion", bash_command=clv_jobs("evaluate"), **BASH_KWARGS)
    # Exit 99 (Airflow: skipped, and so is the approval) when no challenger waits; 1 when the
    # shadow run fails (a medium alert is raised and the verdict recorded).
    shadow = BashOperator(
        task_id="shadow_challenger",
        bash_command=clv_jobs("shadow", "--model-version", "challenger", "--as-of-date", AS_OF),
        skip_on_exit_code=99,
        retries=0,
        **BASH_KWARGS,
    )
    approve = ApprovalOperator(
        task_id="approve_promotion",
        subject="Promote the CLV challenger to champion?",
        body=(
            "The challenger passed its shadow run beside the champion at {{ clv_as_of_date(ds) }}: "
            "see `marts.fct_shadow_runs` and `marts.fct_model_decisions`. Approve to promote it; the next "
            "nightly scoring uses it. Give your reason."
        ),
        params={"reason": Param("", type="string", description="Why; recorded in fct_model_decisions.")},
        defaults="Reject",
        response_timeout=timedelta(days=6),
        retries=0,
    )
    # Who and why come from the approval's response, through the environment: never pasted into
    # the shell command (a reason may hold any character).
    record_approval = BashOperator(
        task_id="record_approval",
        bash_command=clv_jobs("approve", "challenger") + ' --by "$CLV_APPROVED_BY" --reason "$CLV_APPROVAL_REASON"',
        retries=0,
        **{
            **BASH_KWARGS,
            "env": {
                **BASH_KWARGS["env"],
                "CLV_APPROVED_BY": "{{ (" + APPROVAL + "['responded_by_user'] or {}).get('name') or 'unknown' }}",
                "CLV_APPROVAL_REASON": "{{ " + APPROVAL + "['params_input'].get('reason') or 'approved in Airflow' }}",
            },
        },
    )
    promote = BashOperator(task_id="promote", bash_command=clv_jobs("promote", "challenger"), retries=0, **BASH_KWARGS)
    publish = BashOperator(
        task_id="publish_ml_marts",
        bash_command=dbt("build", "--selector", "ml_marts"),
        trigger_rule="none_failed",
        **BASH_KWARGS,
    )

    build_warehouse >> train >> evaluate >> shadow >> approve >> record_approval >> promote >> publish
