"""The model lifecycle end to end, as the README's checkpoint runs it (scripts/lifecycle_demo.sh)
on a small shop whose orders double in value from July 2023: the monitor raises the drift
trigger, a retrain on the same labels could not differ (the alert persists and says why), newer
labels mature, the retrain produces a challenger, its shadow run compares it with the champion,
a person approves it, it is promoted, the next scoring uses it, the alert clears, and
fct_model_decisions tells the story in order."""

from __future__ import annotations

import subprocess

import duckdb
import pandas as pd
import pytest

from conftest import BIN, PROJECT_DIR, workspace_env


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    work = tmp_path_factory.mktemp("lifecycle")
    # 3,000 customers: the small-sample gates
    env = {**workspace_env(work), "BIN": str(BIN), "CUSTOMERS": "3000", "SEED": "12", "USER": "ana"}
    run = subprocess.run(
        ["bash", str(PROJECT_DIR / "scripts" / "lifecycle_demo.sh")], env=env, cwd=work, capture_output=True, text=True
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    return work, output


def test_the_monitor_raises_the_trigger_and_says_when_a_retrain_cannot_help(story):
    work, output = story
    first = pd.read_parquet(work / "lake" / "ml" / "alerts")
    assert "prediction predicted_clv drifted" in output
    assert "alert persists; a retrain would reproduce version 1 (no labels matured after 2023-06-30)" in output
    assert "retrain recommended: labels have matured through 2023-12-31, version 1 learned through 2023-06-30" in output
    medium = first[first["tier"] == "medium"]
    assert {"prediction_psi", "alert_persists"} <= set(medium["rule_name"])
    assert (first["route"] == "stderr").all()  # no SNS topic configured: printed


def test_the_decision_story_is_published_in_order(story):
    work, _ = story
    with duckdb.connect(str(work / "clv.duckdb"), read_only=True) as con:
        decisions = con.execute(
            "select model_version, decision, decided_by from marts.fct_model_decisions order by decided_at"
        ).fetchall()
        shadow = con.execute("select challenger_version, champion_version, is_passed from marts.fct_shadow_runs")
        shadows = shadow.fetchall()
        scores = con.execute(
            "select distinct model_version, horizon_days from marts.fct_clv_scores where as_of_date = '2024-12-31'"
        ).fetchall()
        runs = con.execute("select model_version, is_retrain_recommended from marts.fct_monitor_runs").fetchall()
    assert [(v, d) for v, d, _ in decisions] == [
        ("1", "champion"),
        ("1", "retrain_skipped"),
        ("2", "challenger"),
        ("2", "shadow_passed"),
        ("2", "approved"),
        ("2", "promoted"),
    ]
    assert decisions[4][2] == "ana"
    assert shadows == [("2", "1", True)]
    # The next scoring used the new champion, and its monitor run no longer recommends retraining.
    assert scores == [("2", 365)]
    assert runs == [("2", False)]


def test_shadow_scores_are_never_published(story):
    work, _ = story
    shadow = pd.read_parquet(work / "lake" / "shadow" / "scores" / "model_version=2")
    published = pd.read_parquet(work / "lake" / "ml" / "scores" / "as_of_date=2024-12-31")
    assert len(shadow) == len(published) and set(published["model_version"]) == {"2"}
