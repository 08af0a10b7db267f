"""The model's level: calibration on the validation date, or BG/NBD + Gamma-Gamma's total on the
test date when the test date's customers are older than any validated (ADR 0019)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from clv_jobs.calibration import (
    CALIBRATION_BOUNDS,
    at_btyd_level,
    calibration_factor,
    older_share,
)
from clv_jobs.features import FeatureSpec
from clv_jobs.model import (
    BTYD_MARGIN_PREFIX,
    SUPPORT_QUANTILE,
    ClvModel,
    btyd_features,
    btyd_revenue,
    load_model_config,
)

HORIZON = 90
START = pd.Timestamp("2020-01-01")
SPLITS = {120: "train", 210: "train", 300: "valid", 390: "test"}
SPEC = FeatureSpec(
    ids=["customer_id", "as_of_date"],
    numeric=["frequency", "recency_days", "tenure_days", "days_since_last_purchase", "monetary_value_usd"],
    categorical=["country"],
    labels=["revenue_next_horizon_usd", "is_active_next_180d"],
)


def _shop(customers: int, acquired_until: int, seed: int, hint: bool = False) -> pd.DataFrame:
    """Training examples of a simulated BG/NBD shop (purchase rates gamma, a dropout chance after
    each purchase, gamma order values) at four as-of days 90 apart; customers are acquired
    uniformly over [0, acquired_until] days, so a small value is one cohort ageing. With `hint`,
    each customer's dropout chance is a column too: what trees can learn and BTYD cannot see."""
    rng = np.random.default_rng(seed)
    histories, dropouts = [], []
    for _ in range(customers):
        day, rate = rng.uniform(0, acquired_until), rng.gamma(2.0, 0.02)
        dropout, spend = rng.beta(1, 6), rng.gamma(4, 10)
        dropouts.append(dropout)
        purchases = []
        while day < 600:
            purchases.append((day, spend * rng.gamma(8, 1 / 8)))
            if rng.random() < dropout:
                break
            day += rng.exponential(1 / rate)
        histories.append((np.array([d for d, _ in purchases]), np.array([a for _, a in purchases])))
    frame = _examples(histories, SPLITS)
    if hint:
        frame["dropout_hint"] = np.asarray(dropouts)[frame["customer_id"].str[1:].astype(int)]
    return frame


def _examples(histories: list[tuple[np.ndarray, np.ndarray]], splits: dict[int, str]) -> pd.DataFrame:
    """One row per customer (purchase days from START, amounts) and as-of day (`splits`: day to
    split) with a purchase on or before it: RFM features and the labels over HORIZON."""
    rows = []
    for customer, (days, amounts) in enumerate(histories):
        for as_of, split in splits.items():
            seen = days <= as_of
            if not seen.any():
                continue
            first, last, n = days[0], days[seen][-1], int(seen.sum())
            rows.append(
                {
                    "customer_id": f"c{customer:05d}",
                    "as_of_date": START + pd.Timedelta(days=as_of),
                    "split": split,
                    "country": "FR" if customer % 2 else "UK",
                    "frequency": n - 1,
                    "recency_days": int(last) - int(first),
                    "tenure_days": as_of - int(first),
                    "days_since_last_purchase": as_of - int(last),
                    "monetary_value_usd": amounts[1:n].mean() if n > 1 else 0.0,
                    "avg_purchase_value_usd": amounts[:n].mean(),
                    "revenue_next_horizon_usd": amounts[(days > as_of) & (days <= as_of + HORIZON)].sum(),
                    "is_active_next_180d": bool(((days > as_of) & (days <= as_of + 180)).any()),
                }
            )
    return pd.DataFrame(rows)


def test_calibration_matches_the_realized_total_within_bounds():
    y, pred = np.array([10.0, 0.0, 30.0]), np.array([20.0, 20.0, 40.0])
    assert calibration_factor(y, pred) == 0.5
    assert (calibration_factor(y, pred * 0.5) * pred * 0.5).sum() == y.sum()
    assert calibration_factor(y, pred / 100) == CALIBRATION_BOUNDS[1]
    assert calibration_factor(y, np.zeros(3)) == 1.0


def test_older_share_tells_one_ageing_cohort_from_a_shop_that_acquires_all_along():
    def share(frame):
        return older_share(frame[frame["split"] == "valid"], frame[frame["split"] == "test"])

    assert share(_shop(400, 60, seed=1)) == 1.0
    # Acquired over 390 days: only customers of the first 90 days are older than valid's oldest.
    assert 0.1 < share(_shop(400, 390, seed=1)) < 0.35


@pytest.fixture(scope="module")
def one_cohort():
    return _shop(3000, 60, seed=7)


def test_training_on_one_ageing_cohort_boosts_from_btyd_at_its_total_on_the_test_date(one_cohort):
    from clv_jobs.train import train_models

    messages = []
    result = train_models(one_cohort, SPEC, load_model_config(), HORIZON, messages.append)
    assert result.level == "btyd"
    assert any("100% of the test date's customers are older" in m for m in messages)
    # Only objectives boosted from BTYD compete (or BTYD itself, or their blend).
    assert all(n.removeprefix("blend:").startswith((BTYD_MARGIN_PREFIX, "bgnbd")) for n in result.validation)
    test = result.test
    predicted = result.model.predict_revenue(test)
    assert predicted.sum() == pytest.approx(btyd_revenue(test).sum(), rel=1e-9)
    assert result.fallback is None or result.fallback.calibration == 1.0


def test_a_shop_that_acquires_all_along_keeps_the_validation_calibration():
    from clv_jobs.train import train_models

    config = load_model_config()
    result = train_models(_shop(3000, 390, seed=7), SPEC, config, HORIZON)
    assert result.level == "validation"
    assert result.model.calibration == pytest.approx(result.validation[result.selected]["calibration"])
    assert len(result.validation) == len(config["xgboost"]["objectives"]) + 2  # + BTYD, + the blend


def test_at_btyd_level_keeps_the_ranking_and_takes_btyds_total(one_cohort):
    from clv_jobs.train import train_models

    model = train_models(one_cohort, SPEC, load_model_config(), HORIZON).model
    test = one_cohort[one_cohort["split"] == "test"].reset_index(drop=True)
    test = pd.concat([test, btyd_features(test, HORIZON)], axis=1)
    for factor in (0.5, 2.0):
        shifted = at_btyd_level(dataclasses.replace(model, calibration=factor), test)
        np.testing.assert_allclose(shifted.predict_revenue(test), model.predict_revenue(test), rtol=1e-9)
    assert model.predict_revenue(test).sum() == pytest.approx(btyd_revenue(test).sum(), rel=1e-9)


def test_beyond_the_trees_support_btyd_predicts_alone_and_the_rest_takes_its_total():
    from clv_jobs.train import train_models

    frame = _shop(3000, 60, seed=7, hint=True)
    # As the warehouse returns a DECIMAL column: Python Decimals.
    revenue_to_date = (frame["monetary_value_usd"] * frame["frequency"]).round(2)
    frame["net_revenue_to_date_usd"] = [Decimal(f"{value:.2f}") for value in revenue_to_date]
    spec = dataclasses.replace(SPEC, numeric=[*SPEC.numeric, "dropout_hint", "net_revenue_to_date_usd"])
    messages = []
    result = train_models(frame, spec, load_model_config(), HORIZON, messages.append)
    model, test = result.model, result.test
    assert result.level == "btyd" and model.family == "xgboost"
    # The registered model learned from every row (refit with the test date): its support is theirs.
    assert model.support_limits == {
        "frequency": pytest.approx(frame["frequency"].quantile(SUPPORT_QUANTILE)),
        "net_revenue_to_date_usd": pytest.approx(revenue_to_date.quantile(SUPPORT_QUANTILE)),
    }
    beyond = model.beyond_support(test)
    assert 0 < beyond.sum() < 0.01 * len(test)
    assert any(m.startswith("support: frequency above") and "ADR 0021" in m for m in messages)
    predicted, btyd = model.predict_revenue(test), btyd_revenue(test)
    np.testing.assert_allclose(predicted[beyond], btyd[beyond], rtol=1e-12)
    assert not np.allclose(predicted[~beyond], btyd[~beyond], rtol=0.01)
    assert predicted.sum() == pytest.approx(btyd.sum(), rel=1e-9)
    assert result.fallback.support_limits is None


# Purchase-rate multipliers by calendar month (Jan..Dec): the synthetic shop's Q4 peak.
Q4_PEAK = (0.8, 0.8, 0.9, 0.9, 0.95, 0.95, 0.9, 0.9, 1.0, 1.1, 1.6, 1.9)
FLAT = (1.0,) * 12
SEASON_TEST = pd.Timestamp("2022-09-30")


def _seasonal_shop(
    customers: int, seasonality: tuple[float, ...], seed: int, first: str = "2020-03-31"
) -> pd.DataFrame:
    """Month-end training examples of a BG/NBD-like shop acquiring all along whose purchase rate
    follows `seasonality`; 90-day labels. Test 2022-09-30 (October to December, the peak), valid
    2022-06-30 (July to September), train every month end from `first` to 2022-03-31."""
    rng = np.random.default_rng(seed)
    peak = max(seasonality)
    end = (SEASON_TEST + pd.Timedelta(days=HORIZON) - START).days
    histories = []
    for _ in range(customers):
        day, rate = rng.uniform(0, end - 200), rng.gamma(2.0, 0.02)
        dropout, spend, purchases = rng.beta(1, 8), rng.gamma(4, 10), []
        while day < end:
            # Thinning: a candidate purchase is kept with its month's share of the peak rate.
            if not purchases or rng.random() < seasonality[(START + pd.Timedelta(days=day)).month - 1] / peak:
                purchases.append((day, spend * rng.gamma(8, 1 / 8)))
                if rng.random() < dropout:
                    break
            day += rng.exponential(1 / (rate * peak))
        histories.append((np.array([d for d, _ in purchases]), np.array([a for _, a in purchases])))
    dates = pd.date_range(first, "2022-03-31", freq="ME").append(pd.DatetimeIndex(["2022-06-30", SEASON_TEST]))
    splits = {as_of: "train" for as_of in dates[:-2]} | {dates[-2]: "valid", SEASON_TEST: "test"}
    return _examples(histories, {(as_of - START).days: split for as_of, split in splits.items()})


def _trained(frame: pd.DataFrame):
    from clv_jobs.train import train_models

    messages = []
    result = train_models(frame, SPEC, load_model_config(), HORIZON, messages.append)
    test = result.test
    return result, test["pred_xgboost"].sum() / test["revenue_next_horizon_usd"].sum() - 1, messages


@pytest.mark.parametrize("seed", [3, 4])
def test_a_seasonal_index_keeps_the_peak_quarter_level_when_valid_was_off_peak(seed):
    result, bias, messages = _trained(_seasonal_shop(1500, Q4_PEAK, seed))
    assert result.level == "validation"
    index = result.model.season_by_month
    assert index[5] == pytest.approx(1.0)  # the validation date's month (June) keeps its factor
    # October to December buys 1.6 times July to September: the validation date's factor alone
    # (the same model without its September index) misses the peak by a third.
    # Simulated over eight seeds: -0.34 to -0.44 without the index, -0.12 to +0.04 with it.
    assert (1 + bias) / index[8] - 1 < -0.25
    assert abs(bias) < 0.15
    assert any("season: calibration by as-of month" in m and "the test date (Sep)" in m for m in messages)
    test = result.test  # BG/NBD + Gamma-Gamma, the fallback (or the winner), has its own index
    btyd = (result.fallback or result.model).predict_revenue(test).sum() / test["revenue_next_horizon_usd"].sum() - 1
    assert abs(btyd) < 0.15


def test_a_shop_without_seasons_gets_a_flat_index():
    result, bias, _ = _trained(_seasonal_shop(1500, FLAT, seed=5))
    # Eight seeds: no month beyond 0.22 in log (the Q4 peak's index reaches 0.44 to 0.58).
    assert np.all(np.abs(np.log(result.model.season_by_month)) < 0.3)
    assert abs(bias) < 0.15


def test_no_seasonal_index_from_months_seen_once():
    result, _, messages = _trained(_seasonal_shop(600, Q4_PEAK, seed=6, first="2021-04-30"))
    assert result.model.season_by_month is None  # April 2021 to March 2022: every month once
    assert any("fewer than 2 as-of dates: one calibration for every month" in m for m in messages)


def test_the_seasonal_index_is_saved_with_the_model_and_in_btyd_reasons(tmp_path):
    result = _trained(_seasonal_shop(600, Q4_PEAK, seed=6))[0]
    model = dataclasses.replace(result.model, drift_baseline=None)
    assert model.season_by_month is not None
    assert ClvModel.load(model.save(tmp_path)).season_by_month == model.season_by_month
    # BG/NBD + Gamma-Gamma's reasons are in USD: with the index they still add up to the prediction.
    btyd, test = result.fallback or result.model, result.test
    assert btyd.family == "bgnbd_gamma_gamma" and btyd.season_by_month is not None
    np.testing.assert_allclose(btyd.contributions(test).sum(axis=1), btyd.predict_revenue(test), rtol=1e-9, atol=1e-6)
