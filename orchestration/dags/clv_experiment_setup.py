"""clv_experiment_setup: create a canary or an A/B test of a challenger (triggered by a person,
with params): assign every customer scored by both models by a keyed hash, choose the audience,
export it for the CRM (reports/experiments/<id>/audience.csv), publish the definition and the
assignments (fct_experiments, fct_experiment_outcomes).

The CRM sends the campaign to the exported audience; clv_experiment_analysis judges it once its
events and the window's orders have landed.
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
    dag_id="clv_experiment_setup",
    description="create a canary or A/B test of a challenger: assignment, audience export, publish",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "kind": Param("canary", enum=["canary", "ab"], description="canary (95/5, 1 week) or ab (50/50, 4 weeks)"),
        "challenger_version": Param("challenger", type="string", description="model version or alias"),
        "audience_size": Param(10000, type="integer", minimum=1, description="customers the campaign goes to"),
        "exploration_share": Param(0.1, type="number", minimum=0, maximum=0.9, description="chosen at random"),
    },
    tags=["clv", "experiments"],
) as dag:
    # The params reach the command through the environment, never pasted into the shell line.
    create = BashOperator(
        task_id="create_experiment",
        bash_command=clv_jobs("experiment", "create")
        + ' --kind "$CLV_KIND" --challenger-version "$CLV_CHALLENGER" --audience-size "$CLV_AUDIENCE"'
        + ' --exploration-share "$CLV_EXPLORATION"',
        retries=0,
        **{
            **BASH_KWARGS,
            "env": {
                **BASH_KWARGS["env"],
                "CLV_KIND": "{{ params.kind }}",
                "CLV_CHALLENGER": "{{ params.challenger_version }}",
                "CLV_AUDIENCE": "{{ params.audience_size }}",
                "CLV_EXPLORATION": "{{ params.exploration_share }}",
            },
        },
    )
    publish = BashOperator(
        task_id="publish_ml_marts", bash_command=dbt("build", "--selector", "ml_marts"), **BASH_KWARGS
    )

    create >> publish
