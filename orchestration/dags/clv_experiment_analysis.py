"""clv_experiment_analysis: judge an experiment (triggered with its id, e.g. daily while it
runs): check the landings (the CRM's campaign events, the window's orders), build the warehouse
and the outcomes, analyze (Welch, two-proportion tests, guardrails, the SRM check, the minimum
duration) and publish the verdict (fct_experiment_results, fct_model_decisions), which the
approval step of clv_weekly_training reads.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
from _clv_common import BASH_KWARGS, DEFAULT_ARGS, clv_jobs, dbt

with DAG(
    dag_id="clv_experiment_analysis",
    description="check landings, build, analyze an experiment, publish its verdict",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"experiment_id": Param("", type="string", minLength=1, description="the experiment to judge")},
    tags=["clv", "experiments"],
) as dag:
    check_landing = BashOperator(task_id="check_landing", bash_command=clv_jobs("check-landing"), **BASH_KWARGS)
    build_warehouse = BashOperator(task_id="dbt_build_warehouse", bash_command=dbt("build"), **BASH_KWARGS)
    build_outcomes = BashOperator(
        task_id="build_outcomes", bash_command=dbt("build", "--selector", "ml_marts"), **BASH_KWARGS
    )
    analyze = BashOperator(
        task_id="analyze",
        bash_command=clv_jobs("experiment", "analyze") + ' "$CLV_EXPERIMENT_ID"',
        retries=0,
        **{**BASH_KWARGS, "env": {**BASH_KWARGS["env"], "CLV_EXPERIMENT_ID": "{{ params.experiment_id }}"}},
    )
    publish = BashOperator(
        task_id="publish_ml_marts", bash_command=dbt("build", "--selector", "ml_marts"), **BASH_KWARGS
    )

    check_landing >> build_warehouse >> build_outcomes >> analyze >> publish
