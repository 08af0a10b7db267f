"""Experiment design and verdicts: the audience each group's model chooses, and the verdict rules
checked over simulated outcomes (A/A is not a win, a planted lift is adopted, a broken assignment
blocks the verdict, a guardrail rejects, too few days give no verdict)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from clv_jobs import experiments
from clv_jobs.model import load_model_config

CONFIG = load_model_config()["experiments"]


def design(kind="ab", audience=4_000, exploration=0.1, min_days=28) -> experiments.Design:
    return experiments.Design(
        "exp-1", kind, "1", "2", date(2024, 12, 31), audience, exploration, date(2025, 1, 1), min_days
    )


def scores(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"C{i:06d}" for i in range(n)]
    return pd.Series(rng.gamma(1.0, 100.0, n), index=ids), pd.Series(rng.gamma(1.0, 100.0, n), index=ids)


def test_each_group_targets_its_models_top_customers_and_exploration_at_random():
    champion, challenger = scores()
    frame = experiments.build_assignments(design(), champion, challenger)
    targeted = frame[frame["is_targeted"]]
    assert targeted["group_name"].value_counts().to_dict() == {"control": 1_800, "treatment": 1_800, "exploration": 400}
    for group, model in (("control", champion), ("treatment", challenger)):
        members = frame[frame["group_name"] == group]
        chosen = members[members["is_targeted"]]["customer_id"]
        # the chosen are exactly the group's best by its own model
        assert set(chosen) == set(model.reindex(members["customer_id"]).nlargest(len(chosen)).index)
    explore = frame[(frame["group_name"] == "exploration") & frame["is_targeted"]]
    explore_scores = challenger.reindex(explore["customer_id"])
    # random, not the best: their mean score is the population's, not the top's
    assert explore_scores.mean() == pytest.approx(challenger.mean(), rel=0.15)
    assert experiments.build_assignments(design(), champion, challenger).equals(frame)  # deterministic


def test_an_audience_larger_than_a_group_is_refused():
    champion, challenger = scores(2_000)
    # the whole population as audience: the hash's groups never match the planned shares exactly
    with pytest.raises(ValueError, match="group has .* fewer than"):
        experiments.build_assignments(design("canary", audience=2_000), champion, challenger)
    with pytest.raises(ValueError, match="between 1 and the 2,000 eligible"):
        experiments.build_assignments(design("canary", audience=2_001), champion, challenger)


def outcomes(rng, n=20_000, lift=0.0, shares=(0.45, 0.45, 0.10), unsub=(0.02, 0.02)):
    """Simulated outcomes: half of each group in the audience; conversion 10 %, gamma revenue;
    `lift` raises the treatment's conversion."""
    groups = rng.choice(["control", "treatment", "exploration"], n, p=list(shares))
    targeted = rng.random(n) < 0.5
    p = np.where(groups == "treatment", 0.10 * (1 + lift), 0.10)
    bought = rng.random(n) < np.where(targeted, p, 0.03)
    orders = np.where(bought, 1 + rng.poisson(0.3, n), 0)
    return pd.DataFrame(
        {
            "group_name": groups,
            "is_targeted": targeted,
            "orders": orders,
            "revenue_usd": np.where(bought, rng.gamma(2.0, 50.0, n) * orders, 0.0),
            "is_unsubscribed": rng.random(n) < np.where(groups == "treatment", unsub[1], unsub[0]),
        }
    )


def verdicts(runs, **kwargs):
    rng = np.random.default_rng(kwargs.pop("seed", 1))
    kind = kwargs.pop("kind", "ab")
    days = kwargs.pop("days", 28)
    return [
        experiments.analyze(design(kind, min_days=28), outcomes(rng, **kwargs), days, 1.0, CONFIG).verdict
        for _ in range(runs)
    ]


def test_an_aa_test_is_rarely_called_a_win():
    found = verdicts(400)
    # a win needs a significant positive lift: half of the 5 % two-sided errors
    assert found.count("adopt") / len(found) <= 0.05
    # rejections: the other half, plus the unsubscribe guardrail's own 5 % (one-sided)
    assert found.count("inconclusive") / len(found) >= 0.85


def test_a_planted_lift_is_adopted():
    found = verdicts(100, lift=0.5)
    assert found.count("adopt") / len(found) >= 0.8


def test_a_broken_assignment_blocks_the_verdict():
    found = verdicts(50, lift=0.5, shares=(0.50, 0.40, 0.10))
    assert set(found) == {"inconclusive"}
    result = experiments.analyze(design(), outcomes(np.random.default_rng(2), shares=(0.5, 0.4, 0.1)), 28, 1.0, CONFIG)
    assert "sample ratio mismatch" in result.reasons[0]


def test_guardrails_and_duration():
    rng = np.random.default_rng(3)
    unsubscribing = experiments.analyze(design(), outcomes(rng, lift=0.5, unsub=(0.02, 0.05)), 28, 1.0, CONFIG)
    assert unsubscribing.verdict == "reject" and "unsubscribe rate higher" in unsubscribing.reasons[0]
    slow = experiments.analyze(design(), outcomes(rng, lift=0.5), 28, 2.0, CONFIG)
    assert slow.verdict == "reject" and "scoring costs 2.00x" in slow.reasons[0]
    early = experiments.analyze(design(), outcomes(rng, lift=0.5), 10, 1.0, CONFIG)
    assert early.verdict == "inconclusive" and early.reasons == ["ran 10 of its 28 days"]


def test_a_canary_that_converts_worse_is_rejected_and_one_no_worse_passes():
    rng = np.random.default_rng(4)
    canary = design("canary", min_days=7)
    shares = (0.855, 0.045, 0.10)
    worse = experiments.analyze(canary, outcomes(rng, 60_000, lift=-0.6, shares=shares), 7, 1.0, CONFIG)
    assert worse.verdict == "reject" and "converts worse" in worse.reasons[0]
    same = experiments.analyze(canary, outcomes(rng, 60_000, shares=shares), 7, 1.0, CONFIG)
    assert same.verdict == "adopt" and same.reasons[0].startswith("conversion no worse")
    assert {row["metric_name"] for row in same.rows} >= {"sample_ratio", "conversion_rate", "unsubscribe_rate"}
