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

from conftest import BIN, PROJECT_DIR

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
    assert set(result["dags"]) == {"clv_nightly", "clv_weekly_training"}
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
        "retrain_needed",
        "trigger_training",
    }


def test_nightly_dag_runs_end_to_end_on_duckdb(tmp_path, duckdb_build, synthetic_lake, monkeypatch):
    """A champion first (as the weekly DAG would leave it), then `airflow dags test clv_nightly`."""
    from clv_jobs import jobs, train
    from clv_jobs.settings import Settings

    path, result = duckdb_build
    assert result.returncode == 0
    lake = tmp_path / "lake"
    shutil.copytree(synthetic_lake, lake)
    database = tmp_path / "clv.duckdb"
    shutil.copy(path, database)
    mlflow_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("CLV_MLFLOW_TRACKING_URI", mlflow_uri)
    monkeypatch.chdir(tmp_path)
    config = train.load_model_config()
    config["gates"].update(min_normalized_gini=0.0, must_beat_every_baseline=[], min_disparate_impact_ratio=0.0)
    monkeypatch.setattr(jobs, "load_model_config", lambda: config)
    settings = Settings(
        lake_dir=lake,
        duckdb_path=database,
        dbt_target="ci",
        dbt_project_dir=PROJECT_DIR,
        dbt_target_path=path.parent / "target",
        pg_dsn="",
        reports_dir=tmp_path / "reports",
    )
    assert jobs.run_train(settings).decision == "champion"

    home = tmp_path / "airflow"
    env = _airflow_env(
        home,
        {
            "CLV_DBT_TARGET": "ci",
            "CLV_LAKE_DIR": str(lake),
            "CLV_DUCKDB_PATH": str(database),
            "CLV_MLFLOW_TRACKING_URI": mlflow_uri,
            "CLV_REPORTS_DIR": str(tmp_path / "reports"),
            # dbt writes its target/ and logs/ here, and clv-jobs reads the manifest from there.
            "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
            "CLV_DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
            "DBT_LOG_PATH": str(tmp_path / "dbt_logs"),
        },
    )
    migrate = subprocess.run([str(AIRFLOW_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    run = subprocess.run(
        [str(AIRFLOW_BIN / "airflow"), "dags", "test", "clv_nightly", "2025-01-15"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    for task in ("check_landing", "source_freshness", "dbt_build_warehouse", "score", "monitor", "publish_ml_marts"):
        assert f"task_id={task}" in output or task in output

    # The run's logical date 2025-01-15 scores the month end on or before it: 2024-12-31.
    scores = pd.read_parquet(lake / "ml" / "scores" / "as_of_date=2024-12-31")
    assert len(scores) > 0
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        runs = con.execute("select as_of_date, is_retrain_recommended from marts.fct_monitor_runs").fetchall()
    assert [str(r[0]) for r in runs] == ["2024-12-31"]
