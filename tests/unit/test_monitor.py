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
    return monitor.drift_baseline(frame, ["spend", "orders"], ["country"], {"predicted_clv": frame["spend"] * 2})


def test_same_distribution_is_ok_and_the_baseline_round_trips_through_json(training):
    import json

    baseline = json.loads(json.dumps(_baseline(training)))
    current = training.sample(frac=0.5, random_state=1).assign(predicted_clv=lambda f: f["spend"] * 2)
    table = monitor.drift_table(baseline, current).set_index("feature_name")
    assert (table["status"] == "ok").all()
    assert table["psi"].max() < 0.01
    assert table.loc["spend", "ks_statistic"] < 0.02
    assert np.isnan(table.loc["country", "ks_statistic"])
    assert table.loc["predicted_clv", "feature_kind"] == "prediction"


def test_psi_against_the_saved_bins_equals_psi_on_the_raw_samples(training):
    shifted = training.assign(spend=training["spend"] * 1.3, predicted_clv=training["spend"] * 2)
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
    current["predicted_clv"] = training["spend"] * 2
    table = monitor.drift_table(_baseline(training), current).set_index("feature_name")
    assert table.loc["spend", "status"] == "alert"
    assert table.loc["orders", "status"] == "alert"
    assert table.loc["orders", "current_null_share"] == pytest.approx(0.5, abs=1e-3)
    assert table.loc["orders", "baseline_null_share"] == 0.0
    assert table.loc["country", "status"] == "alert"
    assert table.loc["predicted_clv", "status"] == "ok"


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
    with pytest.raises(ValueError, match=r"\['predicted_clv'\]"):
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


def test_proxy_of_a_useless_ranking_stays_near_zero_in_simulation():
    """Over 200 simulated shops, a prediction independent of spend has a proxy Spearman near 0 (false
    trigger rate of a 20 % drop from a 0.5 reference: 0), and an informative one keeps it."""
    rng = np.random.default_rng(7)
    useless, informative = [], []
    for _ in range(200):
        spend = rng.gamma(0.3, 80, 2000)
        useless.append(monitor.proxy_metrics(rng.gamma(2, 50, 2000), spend)["spearman"])
        informative.append(monitor.proxy_metrics(spend + rng.normal(0, 20, 2000), spend)["spearman"])
    assert abs(np.mean(useless)) < 0.01 and np.max(np.abs(useless)) < 0.1
    assert np.min(informative) > 0.5
    triggered = [monitor.relative_drop(s, 0.5) > 0.2 for s in informative]
    assert not any(triggered)


def test_kpi_cohorts_on_a_known_table():
    predicted = np.arange(20, dtype=float)  # top 10 %: the last two; bottom 50 %: the first ten
    revenue = np.r_[np.zeros(10), np.full(8, 5.0), 40.0, 0.0]
    days = np.r_[np.zeros(10), np.ones(8), 2, 0]
    rows = {r["cohort"]: r for r in monitor.kpi_cohorts(predicted, revenue, days)}
    assert rows["top_10pct"] == {
        "cohort": "top_10pct",
        "customers": 2,
        "buyers": 1,
        "realized_revenue_usd": 40.0,
        "realized_aov_usd": 20.0,
        "churn_rate": 0.5,
    }
    assert rows["bottom_50pct"]["churn_rate"] == 1.0 and np.isnan(rows["bottom_50pct"]["realized_aov_usd"])


def test_monitor_alerts_are_tiered():
    drift = pd.DataFrame(
        [
            {
                "feature_name": "predicted_clv",
                "feature_kind": "prediction",
                "psi": 0.4,
                "reference": "training",
                "reference_as_of_date": None,
            },
            {
                "feature_name": "frequency",
                "feature_kind": "numeric",
                "psi": 0.15,
                "reference": "training",
                "reference_as_of_date": None,
            },
            {
                "feature_name": "country",
                "feature_kind": "categorical",
                "psi": 0.9,
                "reference": "training",
                "reference_as_of_date": None,
            },
            {
                "feature_name": "recency_days",
                "feature_kind": "numeric",
                "psi": 0.01,
                "reference": "training",
                "reference_as_of_date": None,
            },
        ]
    )
    proxy = pd.DataFrame(
        [
            {
                "scored_as_of_date": "2024-01-31",
                "spearman": 0.3,
                "reference_spearman": 0.5,
                "relative_drop": 0.4,
                "is_triggered": True,
            }
        ]
    )
    config = {"psi_warn": 0.1, "psi_alert": 0.25, "max_proxy_drop": 0.2}
    raised = monitor.monitor_alerts(drift, proxy, ["frequency", "recency_days"], config)
    assert [(a.tier, a.rule_name) for a in raised] == [
        ("medium", "prediction_psi"),
        ("low", "key_feature_psi"),
        ("medium", "proxy_drop"),
    ]  # country is not a key feature: it is in the drift table, not an alert
