"""Drift against a saved training baseline, realized backtest metrics and the retrain rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv_jobs import evaluate, monitor

LIMITS = {"max_share_features_alert": 0.25, "max_gini_drop": 0.05, "min_normalized_gini": 0.3}


@pytest.fixture()
def training():
    rng = np.random.default_rng(0)
    n = 20_000
    return pd.DataFrame(
        {
            "spend": rng.gamma(2.0, 50.0, n),
            "orders": rng.poisson(0.7, n).astype(float),  # zero-inflated: quantile edges tie
            "country": rng.choice(["DE", "FR", "GB"], n),
        }
    )


def _baseline(frame):
    return monitor.drift_baseline(frame, ["spend", "orders"], ["country"], {"predicted_clv_12m": frame["spend"] * 2})


def test_same_distribution_is_ok_and_the_baseline_round_trips_through_json(training):
    import json

    baseline = json.loads(json.dumps(_baseline(training)))
    current = training.sample(frac=0.5, random_state=1).assign(predicted_clv_12m=lambda f: f["spend"] * 2)
    table = monitor.drift_table(baseline, current).set_index("feature_name")
    assert (table["status"] == "ok").all()
    assert table["psi"].max() < 0.01
    assert table.loc["spend", "ks_statistic"] < 0.02
    assert np.isnan(table.loc["country", "ks_statistic"])
    assert table.loc["predicted_clv_12m", "feature_kind"] == "prediction"


def test_psi_against_the_saved_bins_equals_psi_on_the_raw_samples(training):
    shifted = training.assign(spend=training["spend"] * 1.3, predicted_clv_12m=training["spend"] * 2)
    table = monitor.drift_table(_baseline(training), shifted).set_index("feature_name")
    assert table.loc["spend", "psi"] == pytest.approx(evaluate.psi(training["spend"], shifted["spend"]), rel=1e-12)
    # 1,001 baseline quantiles stand in for the sample in KS: within ~0.001 of the exact statistic
    exact = evaluate.ks_statistic(training["spend"], shifted["spend"])
    assert table.loc["spend", "ks_statistic"] == pytest.approx(exact, abs=2e-3)


def test_shift_levels_and_nulls_and_unseen_categories(training):
    current = training.copy()
    current["spend"] = current["spend"] * 3  # far outside: alert
    current.loc[: len(current) // 2, "orders"] = np.nan  # half null: the null bin catches it
    current["country"] = "US"  # unseen in training: all mass in "other"
    current["predicted_clv_12m"] = training["spend"] * 2
    table = monitor.drift_table(_baseline(training), current).set_index("feature_name")
    assert table.loc["spend", "status"] == "alert"
    assert table.loc["orders", "status"] == "alert"
    assert table.loc["orders", "current_null_share"] == pytest.approx(0.5, abs=1e-3)
    assert table.loc["orders", "baseline_null_share"] == 0.0
    assert table.loc["country", "status"] == "alert"
    assert table.loc["predicted_clv_12m", "status"] == "ok"


def test_status_thresholds():
    assert [monitor.drift_status(v, 0.1, 0.25) for v in (0.0, 0.0999, 0.1, 0.2499, 0.25, 3.0)] == [
        "ok",
        "ok",
        "warn",
        "warn",
        "alert",
        "alert",
    ]


def test_missing_column_names_it(training):
    with pytest.raises(ValueError, match=r"\['predicted_clv_12m'\]"):
        monitor.drift_table(_baseline(training), training)


def _drift(statuses: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"feature_name": n, "feature_kind": k, "status": s, "psi": 0.3} for n, (k, s) in statuses.items()]
    )


def _backtests(gini: float, test_gini: float) -> pd.DataFrame:
    return pd.DataFrame(
        [{"scored_as_of_date": "2023-12-31", "normalized_gini": gini, "test_normalized_gini": test_gini}]
    )


@pytest.mark.parametrize(
    ("drift", "backtests", "retrain", "reason"),
    [
        ({"a": ("numeric", "ok"), "p": ("prediction", "warn")}, _backtests(0.8, 0.82), False, None),
        ({"a": ("numeric", "ok"), "p": ("prediction", "alert")}, _backtests(0.8, 0.82), True, "prediction p drifted"),
        # one of four features in alert is 25 %: not more than the limit
        ({"a": ("numeric", "alert"), "b": ("numeric", "ok"), "c": ("numeric", "ok"), "d": ("numeric", "ok")},
         _backtests(0.8, 0.8), False, None),
        ({"a": ("numeric", "alert"), "b": ("numeric", "alert"), "c": ("numeric", "ok")},
         _backtests(0.8, 0.8), True, "67% of features in alert"),
        ({"a": ("numeric", "ok")}, _backtests(0.70, 0.80), True, "more than 0.05 below"),
        ({"a": ("numeric", "ok")}, _backtests(0.25, 0.26), True, "below the gate"),
    ],
    ids=["healthy", "prediction-alert", "features-at-limit", "features-over-limit", "gini-drop", "gini-gate"],
)  # fmt: skip
def test_retrain_decision(drift, backtests, retrain, reason):
    decision = monitor.retrain_decision(_drift(drift), backtests, LIMITS)
    assert decision.retrain is retrain
    if reason:
        assert any(reason in r for r in decision.reasons)
    else:
        assert decision.reasons == []


def test_backtest_metrics_of_a_known_ordering():
    actual = np.array([0.0, 10.0, 20.0, 70.0])
    predicted = np.array([1.0, 2.0, 3.0, 4.0])  # perfect order
    metrics = monitor.backtest_metrics(predicted, actual)
    assert metrics["customers"] == 4
    assert metrics["normalized_gini"] == pytest.approx(1.0)
    assert metrics["actual_revenue_usd"] == 100.0 and metrics["predicted_revenue_usd"] == 10.0
    assert metrics["bias"] == pytest.approx(-0.9)
