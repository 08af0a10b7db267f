"""Promotion gates: a model that loses to a baseline, is unfair, or regresses is not promoted."""

from __future__ import annotations

import pytest

from clv_jobs.registry import apply_gates

GATES = {
    "min_normalized_gini": 0.3,
    "must_beat_every_baseline": ["normalized_gini", "rmse"],
    "min_disparate_impact_ratio": 0.8,
    "champion_tolerance": 0.02,
}


def metrics(gini: float, rmse: float) -> dict[str, float]:
    return {"normalized_gini": gini, "rmse": rmse}


BASELINES = {"company_average": metrics(0.0, 500.0), "linear_rfm": metrics(0.5, 420.0)}


@pytest.mark.parametrize(
    ("candidate", "fairness", "champion", "passed", "reason"),
    [
        (metrics(0.6, 400.0), 0.9, None, True, None),
        (metrics(0.45, 400.0), 0.9, None, False, "does not beat baseline linear_rfm"),
        (metrics(0.6, 430.0), 0.9, None, False, "rmse 430.000 does not beat baseline linear_rfm"),
        (metrics(0.25, 300.0), 0.9, None, False, "normalized Gini 0.250 < 0.3"),
        (metrics(0.6, 400.0), 0.7, None, False, "disparate-impact ratio 0.700 < 0.8"),
        (metrics(0.6, 400.0), 0.9, metrics(0.7, 400.0), False, "worse than champion 0.700"),
        (metrics(0.69, 407.0), 0.9, metrics(0.7, 400.0), True, None),  # within the 2 % tolerance
    ],
    ids=[
        "passes",
        "loses-gini-to-baseline",
        "loses-rmse-to-baseline",
        "gini-floor",
        "unfair",
        "regresses-vs-champion",
        "within-tolerance",
    ],
)
def test_gates(candidate, fairness, champion, passed, reason):
    result = apply_gates({"xgboost": candidate, **BASELINES, "oracle": metrics(0.99, 1.0)}, fairness, GATES, champion)
    assert result.passed is passed
    if reason:
        assert any(reason in r for r in result.reasons), result.reasons
    else:
        assert result.reasons == []


def test_btyd_family_need_not_beat_itself_but_bias_and_a_significant_gap_fail():
    gates = {**GATES, "max_abs_bias": 0.25, "fairness_alpha": 0.05}
    btyd = {**metrics(0.55, 410.0), "bias": 0.1}
    baselines = {**BASELINES, "bgnbd_gamma_gamma": metrics(0.55, 405.0)}
    everything = {"xgboost": btyd, **baselines}
    assert not apply_gates(everything, 0.9, gates, None).passed  # an XGBoost candidate must beat it
    assert apply_gates(everything, 0.9, gates, None, family="bgnbd_gamma_gamma").passed
    biased = {**everything, "xgboost": {**btyd, "bias": -0.3}}
    result = apply_gates(biased, 0.9, gates, None, family="bgnbd_gamma_gamma")
    assert result.reasons == ["aggregate bias -30.0% beyond ±25%"]
    # A low ratio fails only with evidence (its permutation p-value below fairness_alpha).
    assert apply_gates(everything, 0.7, gates, None, family="bgnbd_gamma_gamma", fairness_p_value=0.3).passed
    unfair = apply_gates(everything, 0.7, gates, None, family="bgnbd_gamma_gamma", fairness_p_value=0.01)
    assert unfair.reasons == ["disparate-impact ratio 0.700 < 0.8 (permutation p = 0.010)"]
