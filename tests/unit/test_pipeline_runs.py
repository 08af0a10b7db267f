"""ml/pipeline_runs: what each clv-jobs command and each dbt node leaves for the operations page."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime

import pandas as pd

from clv_jobs import ml_contracts, pipeline_runs
from conftest import BIN

RUN_RESULTS = {
    "metadata": {"generated_at": "2026-12-03T05:36:03.123456Z"},
    "results": [
        {
            "unique_id": "model.clv_warehouse.fct_clv_scores",
            "status": "success",
            "failures": None,
            "message": "OK",
            "execution_time": 1.25,
            "timing": [
                {"name": "compile", "started_at": "2026-12-03T05:35:59.000000Z"},
                {"name": "execute", "started_at": "2026-12-03T05:36:00.500000Z"},
            ],
        },
        {
            "unique_id": "test.clv_warehouse.not_null_fct_clv_scores_predicted_clv.abc",
            "status": "fail",
            "failures": 3,
            "message": "Got 3 results, configured to fail if != 0",
            "execution_time": 0.1,
            "timing": [],
        },
    ],
}


def test_dbt_rows_keep_each_nodes_status_failures_and_timing():
    rows = pipeline_runs.dbt_rows(RUN_RESULTS, ["dbt", "build"])
    assert [(r["step_kind"], r["status"], r["failures"]) for r in rows] == [
        ("model", "success", 0),
        ("test", "fail", 3),
    ]
    assert rows[0]["started_at"] == datetime(2026, 12, 3, 5, 36, 0, 500000)
    # a node without timing falls back to the invocation's time
    assert rows[1]["started_at"] == datetime(2026, 12, 3, 5, 36, 3, 123456)
    assert rows[0]["duration_seconds"] == 1.25
    ml_contracts.to_table("pipeline_runs", rows)  # the contract takes them as they are


def test_command_rows_name_the_step_and_the_outcome():
    started = datetime(2026, 12, 3, 5, 0)
    score = pipeline_runs.command_row(["score", "--as-of-date", "2024-12-31"], "success", started, 2.5)
    assert (score["step_name"], score["command"], score["failures"]) == ("score", "score --as-of-date 2024-12-31", 0)
    build = pipeline_runs.command_row(["dbt", "build", "--selector", "ml_marts"], "error", started, 9.0, "exit 1")
    assert (build["step_name"], build["status"], build["failures"]) == ("dbt build", "error", 1)


def test_run_results_path_follows_the_target_path(monkeypatch):
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert str(pipeline_runs.run_results_path(["build"])) == "target/run_results.json"
    monkeypatch.setenv("DBT_TARGET_PATH", "/w/t")
    assert str(pipeline_runs.run_results_path(["build"])) == "/w/t/run_results.json"
    assert str(pipeline_runs.run_results_path(["build", "--target-path", "x"])) == "x/run_results.json"


def test_recording_never_fails_the_step(tmp_path):
    warnings = []
    row = pipeline_runs.command_row(["score"], "success", datetime(2026, 1, 1), 1.0)
    pipeline_runs.record(tmp_path / "no-lake", [row], "clv-jobs", warnings.append)  # no lake: nothing
    assert warnings == [] and not (tmp_path / "no-lake").exists()
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "ml").write_text("a file where the ml folder should be")
    pipeline_runs.record(tmp_path / "lake", [row], "clv-jobs", warnings.append)
    assert len(warnings) == 1 and "not recorded in ml/pipeline_runs" in warnings[0]


def test_a_failing_command_is_recorded_as_an_error(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    env = {
        **os.environ,
        "CLV_LAKE_DIR": str(lake),
        "CLV_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "CLV_DUCKDB_PATH": str(tmp_path / "none.duckdb"),
    }
    run = subprocess.run(
        [str(BIN / "clv-jobs"), "score", "--as-of-date", "2024-12-31"], env=env, cwd=tmp_path, capture_output=True
    )
    assert run.returncode == 1
    rows = pd.read_parquet(lake / "ml" / "pipeline_runs")
    assert rows[["step_name", "status", "failures"]].values.tolist() == [["score", "error", 1]]
    assert rows["message"].iloc[0].startswith("no champion in the registry")
    assert f"error: {rows['message'].iloc[0]}" in run.stderr.decode()
    # help is not a run
    subprocess.run([str(BIN / "clv-jobs"), "score", "--help"], env=env, cwd=tmp_path, capture_output=True, check=True)
    assert len(pd.read_parquet(lake / "ml" / "pipeline_runs")) == 1
