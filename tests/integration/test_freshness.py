"""`clv-jobs freshness`: dbt's source freshness on the landings, judged at the end of a given day,
as the nightly DAG's gate before the build and scoring."""

from __future__ import annotations

import subprocess

import pandas as pd

from conftest import BIN, copy_lake, workspace_env


def _freshness(env, day: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "clv-jobs"), "freshness", "--as-of-date", day, *args],
        env=env,
        cwd=env["WORK"],
        capture_output=True,
        text=True,
    )


def test_two_days_without_a_landing_warn_and_three_stop_the_run_naming_the_sources(synthetic_lake, tmp_path):
    env = {**workspace_env(tmp_path), "WORK": str(tmp_path)}
    copy_lake(synthetic_lake, tmp_path / "lake")  # the last landings are of 2024-12-31

    fresh = _freshness(env, "2024-12-31")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "pass  shop.transactions: last landing 2024-12-31 00:00:00, 1.0 days old" in fresh.stdout
    # The synthetic shop runs no campaigns: absent, not stale.
    assert "never landed  crm.campaign_events: nothing has landed yet" in fresh.stdout

    late = _freshness(env, "2025-01-02")
    assert late.returncode == 0, late.stdout + late.stderr
    assert "warn  shop.transactions: last landing 2024-12-31 00:00:00, 3.0 days old (warn: limit 2 days)" in late.stdout

    stale = _freshness(env, "2025-01-03")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "stale source(s): shop.customers, shop.transactions, web.events" in stale.stderr
    alerts = pd.read_parquet(tmp_path / "lake" / "ml" / "alerts")
    high = alerts[alerts["tier"] == "high"]
    assert list(high["rule_name"]) == ["source_stale"]
    assert "web.events: last landing 2024-12-31 00:00:00, 4.0 days old (error: limit 3 days)" in high["message"].iloc[0]


def test_what_the_night_landed_itself_is_checked_after_publishing(synthetic_lake, tmp_path):
    from clv_jobs import ml_contracts

    env = {**workspace_env(tmp_path), "WORK": str(tmp_path)}
    lake = copy_lake(synthetic_lake, tmp_path / "lake")
    # The scores of 2024-12-31, as the nightly run of 2025-01-01 lands them; nothing monitored yet.
    columns = ml_contracts.ML_TABLES["scores"].column_names
    ml_contracts.write(lake, "scores", "2024-12-31", pd.DataFrame({c: [None] for c in columns}))

    fresh = _freshness(env, "2024-12-31", "--ml")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "pass  ml.scores: last landing 2024-12-31 00:00:00, 1.0 days old (pass: limit 2 days)" in fresh.stdout
    assert "never landed  ml.monitor_runs: nothing has landed yet" in fresh.stdout

    stale = _freshness(env, "2025-01-03", "--ml")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "stale source(s): ml.scores: the published marts are behind" in stale.stderr
    alerts = pd.read_parquet(lake / "ml" / "alerts")
    high = alerts[alerts["tier"] == "high"]["message"].tolist()
    assert high == [
        "stale source, the published marts are behind:"
        " ml.scores: last landing 2024-12-31 00:00:00, 4.0 days old (error: limit 3 days)"
    ]
