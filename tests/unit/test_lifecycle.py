"""The lifecycle's rules: what blocks a promotion, and when a retrain could change anything."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from clv_jobs import lifecycle


def _history(*steps):
    return pd.DataFrame(
        [
            {"model_version": v, "action": a, "reasons": f"{a} reasons", "decided_at": pd.Timestamp(2025, 1, i + 1)}
            for i, (v, a) in enumerate(steps)
        ]
    )


@pytest.mark.parametrize(
    ("steps", "blockers"),
    [
        ([("2", "challenger")], ["no shadow run"]),
        ([("2", "challenger"), ("2", "shadow_failed")], ["latest shadow run failed"]),
        ([("2", "challenger"), ("2", "shadow_passed")], ["not approved since its shadow run"]),
        ([("2", "challenger"), ("2", "approved"), ("2", "shadow_passed")], ["not approved since its shadow run"]),
        ([("2", "challenger"), ("2", "shadow_passed"), ("2", "approved")], []),
        ([("2", "rejected"), ("2", "shadow_passed"), ("2", "approved")], ["failed its gates"]),
        (
            [("2", "challenger"), ("2", "shadow_passed"), ("2", "approved"), ("2", "shadow_failed")],
            ["shadow run failed"],
        ),
        (
            [("2", "challenger"), ("2", "shadow_passed"), ("2", "approved"), ("2", "experiment_rejected")],
            ["experiment rejected it"],
        ),
        (
            [("2", "challenger"), ("2", "shadow_passed"), ("2", "experiment_rejected"), ("2", "experiment_adopted")],
            ["not approved since its shadow run"],
        ),
    ],
    ids=[
        "no-shadow",
        "shadow-failed",
        "not-approved",
        "approval-before-shadow",
        "ready",
        "gates-failed",
        "reshadowed",
        "experiment-rejected",
        "experiment-adopted-later",
    ],
)
def test_promotion_blockers(steps, blockers):
    found = lifecycle.promotion_blockers(_history(*steps), "2")
    assert len(found) == len(blockers) and all(b in f for b, f in zip(blockers, found, strict=True))


def _assess(**overrides):
    args = dict(
        monitor_retrain=True,
        monitor_reasons="prediction predicted_clv drifted",
        proxy_triggered=False,
        newest_matured=date(2023, 12, 31),
        newest_version="1",
        newest_learned_through=date(2023, 12, 31),
        champion="1",
        champion_below_gate=False,
    )
    return lifecycle.retrain_assessment(**{**args, **overrides})


def test_no_alert_no_retrain():
    assert not _assess(monitor_retrain=False).retrain


def test_an_alert_a_retrain_cannot_clear_persists():
    outcome = _assess()
    assert not outcome.retrain and "alert persists; a retrain would reproduce version 1" in outcome.message


def test_a_waiting_challenger_is_named():
    outcome = _assess(newest_version="2", champion="1")
    assert not outcome.retrain and "challenger version 2 awaits" in outcome.message


@pytest.mark.parametrize(
    "overrides",
    [
        {"newest_matured": date(2024, 1, 31)},
        {"proxy_triggered": True},
        {"champion_below_gate": True},
        {"newest_version": None},
    ],
    ids=["new-labels", "proxy", "gate", "nothing-registered"],
)
def test_a_retrain_that_could_differ_is_recommended(overrides):
    assert _assess(**overrides).retrain


def test_the_published_actions_are_the_lifecycle_actions():
    """The dbt test on stg_ml__model_decisions accepts exactly the actions the jobs record."""
    import re

    from conftest import PROJECT_DIR

    yml = (PROJECT_DIR / "models" / "staging" / "ml" / "_ml__models.yml").read_text()
    accepted = re.search(r"values: \[(champion[^\]]*)\]", yml).group(1)
    assert tuple(v.strip() for v in accepted.split(",")) == lifecycle.ACTIONS


def test_approval_is_refused_after_a_rejecting_experiment(tmp_path):
    """`clv-jobs approve` (stages.lifecycle.run_approve) reads the verdicts the lake records."""
    from clv_jobs import registry
    from clv_jobs.settings import Settings
    from clv_jobs.stages.lifecycle import run_approve
    from conftest import PROJECT_DIR

    lake = tmp_path / "lake"
    lake.mkdir()
    settings = Settings(lake, tmp_path / "x.duckdb", "dev", PROJECT_DIR, tmp_path, "", tmp_path)
    for action, reason in (("shadow_passed", "shadow passed"), ("experiment_rejected", "ab exp-1: reject: earns less")):
        registry.land_decision(lake, "run-2", "2", action, [reason], {}, date(2023, 12, 31))
    with pytest.raises(ValueError, match=r"latest experiment rejected it \(ab exp-1: reject: earns less\)"):
        run_approve(settings, "2", "ana", "looks fine")
    assert list(registry.decision_history(lake)["action"]) == ["shadow_passed", "experiment_rejected"]
