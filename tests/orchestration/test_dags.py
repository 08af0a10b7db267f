"""The Airflow DAGs: they import cleanly with the promised settings, and `airflow dags test
clv_nightly` runs end to end on DuckDB (freshness, dbt build, score, monitor, publish).

Airflow lives in its own venv (`.airflow/`, `make airflow`), which calls the project's `dbt` and
`clv-jobs`; these tests drive it through its CLI and Python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import BIN, PROJECT_DIR, failure_digest

AIRFLOW_BIN = PROJECT_DIR / ".airflow" / "bin"
DAGS = PROJECT_DIR / "orchestration" / "dags"

pytestmark = pytest.mark.skipif(
    not (AIRFLOW_BIN / "airflow").exists() and not os.environ.get("CI"),
    reason="Airflow venv missing: run `make airflow` (make test does)",
)


def _airflow_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "CLV_PROJECT_DIR": str(PROJECT_DIR),
        "CLV_BIN_DIR": str(BIN),
        **extra,
    }


def test_dagbag_imports_without_errors(tmp_path):
    script = f"""
import json
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder={str(DAGS)!r})
dags = {{
    dag_id: {{
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "tasks": sorted(dag.task_ids),
        "retries": sorted({{t.retries for t in dag.tasks}}),
        "callbacks": all(t.on_failure_callback for t in dag.tasks),
    }}
    for dag_id, dag in bag.dags.items()
}}
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": dags}}))
"""
    proc = subprocess.run(
        [str(AIRFLOW_BIN / "python"), "-c", script],
        env=_airflow_env(tmp_path / "airflow", {}),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert set(result["dags"]) == {
        "clv_nightly",
        "clv_weekly_training",
        "clv_experiment_setup",
        "clv_experiment_analysis",
    }
    assert set(result["dags"]["clv_experiment_analysis"]["tasks"]) == {
        "check_landing",
        "dbt_build_warehouse",
        "build_outcomes",
        "analyze",
        "publish_ml_marts",
    }
    assert set(result["dags"]["clv_weekly_training"]["tasks"]) == {
        "dbt_build_warehouse",
        "train_gate_register",
        "evaluate_champion",
        "shadow_challenger",
        "approve_promotion",
        "record_approval",
        "promote",
        "publish_ml_marts",
    }
    for dag in result["dags"].values():
        assert dag["max_active_runs"] == 1 and dag["catchup"] is False and dag["callbacks"]
    nightly = result["dags"]["clv_nightly"]
    assert set(nightly["tasks"]) == {
        "check_landing",
        "source_freshness",
        "dbt_build_warehouse",
        "score",
        "monitor",
        "publish_ml_marts",
        "ml_freshness",
        "retrain_needed",
        "trigger_training",
    }


@pytest.fixture(scope="module")
def champion_template(tmp_path_factory, duckdb_build, synthetic_lake):
    """A lake, a warehouse and a champion (as the weekly DAG would leave them), and the Airflow
    environment pointing at them, its metadata database migrated: built once for the module,
    copied by each test (`champion_env`)."""
    from clv_jobs.stages import train as train_stage
    from conftest import job_settings, model_config

    path, result = duckdb_build
    assert result.returncode == 0
    home = tmp_path_factory.mktemp("champion")
    lake = home / "lake"
    shutil.copytree(synthetic_lake, lake)
    database = home / "clv.duckdb"
    shutil.copy(path, database)
    mlflow_uri = f"sqlite:///{home / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("CLV_MLFLOW_TRACKING_URI", mlflow_uri)
        monkeypatch.chdir(home)  # MLflow's artifacts: home/mlruns
        config = model_config(monkeypatch, home)
        settings = job_settings(lake, home / "reports", path.parent / "target", database)
        assert train_stage.run_train(settings).decision == "champion"

    env = _airflow_env(
        home / "airflow",
        {
            "CLV_MODEL_CONFIG": str(config),
            "CLV_DBT_TARGET": "ci",
            "CLV_LAKE_DIR": str(lake),
            "CLV_DUCKDB_PATH": str(database),
            "CLV_MLFLOW_TRACKING_URI": mlflow_uri,
            "CLV_REPORTS_DIR": str(home / "reports"),
            # dbt writes its target/ and logs/ here, and clv-jobs reads the manifest from there.
            "DBT_TARGET_PATH": str(home / "dbt_target"),
            "CLV_DBT_TARGET_PATH": str(home / "dbt_target"),
            "DBT_LOG_PATH": str(home / "dbt_logs"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        },
    )
    migrate = subprocess.run([str(AIRFLOW_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return home, env


@pytest.fixture
def champion_env(tmp_path, champion_template):
    """The champion template copied into the test's folder; the environment points at the copy.
    Models trained here keep their artifacts beside the template's (MLflow's artifact root)."""
    home, template_env = champion_template
    shutil.copytree(home, tmp_path, dirs_exist_ok=True)
    for cfg in (tmp_path / "airflow").glob("*.cfg"):
        cfg.write_text(cfg.read_text().replace(str(home), str(tmp_path)))
    env = {name: value.replace(str(home), str(tmp_path)) for name, value in template_env.items()}
    return env, tmp_path / "lake", tmp_path / "clv.duckdb"


def _nightly(env, cwd, logical_date: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AIRFLOW_BIN / "airflow"), "dags", "test", "clv_nightly", logical_date],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_nightly_dag_runs_end_to_end_on_duckdb_and_a_stale_source_stops_it(tmp_path, champion_env):
    """`airflow dags test clv_nightly` on DuckDB, the champion in place: the run of 2024-12-16
    finds the landings fresh and scores and monitors yesterday, a day off the month-end spine; the
    run of 2025-01-15, two weeks after the last landing, stops before the build and scoring,
    naming the stale sources."""
    env, lake, database = champion_env
    run = _nightly(env, tmp_path, "2024-12-16")
    output = run.stdout + run.stderr
    assert run.returncode == 0, failure_digest(output)
    for task in ("check_landing", "source_freshness", "dbt_build_warehouse", "score", "monitor", "publish_ml_marts"):
        assert f"task_id={task}" in output or task in output
    assert "pass  shop.transactions: last landing 2024-12-31" in output
    # What the night landed itself is fresh: about yesterday.
    assert "pass  ml.scores: last landing 2024-12-15 00:00:00, 1.0 days old" in output
    assert "pass  ml.monitor_runs: last landing 2024-12-15 00:00:00, 1.0 days old" in output

    # The run of 2024-12-16 scores yesterday, its features built on demand (ADR 0016).
    assert "building features and labels at 2024-12-15" in output
    scores = pd.read_parquet(lake / "ml" / "scores" / "as_of_date=2024-12-15")
    assert len(scores) > 0
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        runs = con.execute("select as_of_date, is_retrain_recommended from marts.fct_monitor_runs").fetchall()
    assert [str(r[0]) for r in runs] == ["2024-12-15"]

    # The marts hold no label newer than the champion learned from: a retrain could not differ,
    # so retrain_needed says why (raising the alert for a person when the monitor alerted) and the
    # training DAG is not triggered.
    if runs[0][1]:
        assert "alert persists; a retrain would reproduce version 1" in output
        assert "alert_persists" in set(pd.read_parquet(lake / "ml" / "alerts")["rule_name"])
    else:
        assert "retrain not needed" in output

    scored_files = {p: p.stat().st_mtime_ns for p in (lake / "ml" / "scores").rglob("*.parquet")}
    stale = _nightly(env, tmp_path, "2025-01-15")
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0, failure_digest(output)
    assert "stale source(s): shop.customers, shop.transactions, web.events" in output, failure_digest(output)
    alerts = pd.read_parquet(lake / "ml" / "alerts")
    raised = alerts[alerts["rule_name"] == "source_stale"]
    assert (
        list(raised["tier"]) == ["high"] and "shop.transactions: last landing 2024-12-31" in raised["message"].iloc[0]
    )
    # Stopped before scoring: not one score file written or rewritten; the failure callback adds
    # no second alert for the task that raised its own.
    assert {p: p.stat().st_mtime_ns for p in (lake / "ml" / "scores").rglob("*.parquet")} == scored_files
    assert not alerts["message"].str.contains("source_freshness failed").any()


# Answers the approval as a person would through the Airflow UI: Airflow's own HITL response
# handler (the REST route's function) on the shared metadata database, once the task waits.
RESPOND = """
import sys, time
from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from airflow.utils.state import TaskInstanceState

class Person:
    def get_id(self):
        return "7"
    def get_name(self):
        return "ana"

deadline = time.time() + 600
while time.time() < deadline:
    with create_session() as session:  # commits when the block ends
        ti = session.query(TaskInstance).filter_by(
            dag_id="clv_weekly_training", task_id="approve_promotion", state=TaskInstanceState.AWAITING_INPUT
        ).one_or_none()
        if ti is not None:
            payload = UpdateHITLDetailPayload(chosen_options=[sys.argv[1]], params_input={"reason": sys.argv[2]})
            update_hitl_detail(ti.dag_id, ti.run_id, ti.task_id, payload, user=Person(), session=session)
            responded = ti.run_id
        else:
            responded = None
    if responded:
        print("responded", responded)
        sys.exit(0)
    time.sleep(2)
sys.exit("the approval never waited for input")
"""


def test_weekly_dag_shadows_then_waits_for_a_person_then_promotes(tmp_path, champion_env):
    """`airflow dags test clv_weekly_training`: train a challenger, shadow it beside the champion,
    wait for a person's approval (given here through Airflow's HITL handler), record it, promote."""
    env, lake, database = champion_env
    with open(tmp_path / "weekly.log", "w") as log:
        dag_run = subprocess.Popen(
            [str(AIRFLOW_BIN / "airflow"), "dags", "test", "clv_weekly_training", "2025-01-05"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            respond = subprocess.run(
                [str(AIRFLOW_BIN / "python"), "-c", RESPOND, "Approve", "shadow within limits; ticket 12"],
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert respond.returncode == 0, respond.stderr[-3000:] + (tmp_path / "weekly.log").read_text()[-4000:]
            assert dag_run.wait(timeout=900) == 0, (tmp_path / "weekly.log").read_text()[-6000:]
        finally:
            dag_run.kill()

    decisions = pd.read_parquet(lake / "ml" / "decisions").sort_values("decided_at")
    story = list(zip(decisions["model_version"], decisions["action"], decisions["decided_by"], strict=True))
    assert [(v, a) for v, a, _ in story] == [
        ("1", "champion"),
        ("2", "challenger"),
        ("2", "shadow_passed"),
        ("2", "approved"),
        ("2", "promoted"),
    ]
    assert story[3][2] == "ana"
    assert "ticket 12" in decisions["reasons"].iloc[3]
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        published = con.execute(
            "select decision, decided_by from marts.fct_model_decisions order by decided_at"
        ).fetchall()
        shadows = con.execute("select challenger_version, is_passed from marts.fct_shadow_runs").fetchall()
    assert published == [(a, by) for _, a, by in story]
    assert shadows == [("2", True)]


def test_experiment_dags_create_then_judge_an_aa_test(tmp_path, champion_env):
    """`airflow dags test clv_experiment_setup` with a person's params (an A/A test: the
    champion against itself), the simulated campaign landed, then `airflow dags test
    clv_experiment_analysis`: the verdict is published and an A/A test is not called a win."""
    import duckdb

    env, lake, database = champion_env
    score = subprocess.run(
        [str(BIN / "clv-jobs"), "score", "--as-of-date", "2024-12-31"], env=env, cwd=PROJECT_DIR, capture_output=True
    )
    assert score.returncode == 0, score.stderr[-3000:]
    conf = {"kind": "ab", "challenger_version": "champion", "audience_size": 600, "exploration_share": 0.1}
    setup = subprocess.run(
        [str(AIRFLOW_BIN / "airflow"), "dags", "test", "clv_experiment_setup", "-c", json.dumps(conf)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert setup.returncode == 0, (setup.stdout + setup.stderr)[-6000:]
    experiment_id = "ab-v1-2025-01-01"
    audience = pd.read_csv(tmp_path / "reports" / "experiments" / experiment_id / "audience.csv")
    assert len(audience) == 600 and set(audience["group_name"]) == {"control", "treatment", "exploration"}

    simulate = subprocess.run(
        [str(BIN / "clv-jobs"), "experiment", "simulate", experiment_id],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert simulate.returncode == 0, simulate.stderr[-3000:]
    analysis = subprocess.run(
        [
            str(AIRFLOW_BIN / "airflow"),
            "dags",
            "test",
            "clv_experiment_analysis",
            "-c",
            json.dumps({"experiment_id": experiment_id}),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert analysis.returncode == 0, (analysis.stdout + analysis.stderr)[-6000:]
    with duckdb.connect(str(database), read_only=True) as con:
        verdict, days = con.execute(
            "select verdict, days_observed from marts.fct_experiments where experiment_id = ?", [experiment_id]
        ).fetchone()
        srm = con.execute(
            "select is_passed from marts.fct_experiment_results"
            " where experiment_id = ? and metric_name = 'sample_ratio'",
            [experiment_id],
        ).fetchone()
    assert verdict != "adopt" and days == 28 and srm == (True,)
