"""BG/NBD and Gamma-Gamma reproduce the published CDNOW fits (Fader, Hardie & Lee 2005;
Fader & Hardie 2013): the 2,357-customer sample, same-day purchases merged, calibration to
1997-09-30, time in weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv_jobs import btyd
from clv_jobs.datasets import importers


@pytest.fixture(scope="module")
def calibration() -> pd.DataFrame:
    lines = importers.read_cdnow(sample=True).transactions.to_pandas()
    lines["day"] = lines["InvoiceDate"].dt.normalize()
    lines = lines[lines["day"] <= "1997-09-30"]
    days = lines.groupby(["CustomerID", "day"], as_index=False)["UnitPrice"].sum()
    days["value"] = days["UnitPrice"].astype(float)
    first = days.groupby("CustomerID")["day"].transform("min")
    summary = days.groupby("CustomerID").agg(first=("day", "min"), last=("day", "max"), n=("day", "size"))
    summary["frequency"] = summary["n"] - 1
    summary["recency"] = (summary["last"] - summary["first"]).dt.days / 7
    summary["T"] = (pd.Timestamp("1997-09-30") - summary["first"]).dt.days / 7
    repeat = days[days["day"] > first].groupby("CustomerID")["value"].mean()
    summary["monetary_value"] = repeat.reindex(summary.index).fillna(0.0)
    return summary


def test_bg_nbd_reproduces_fader_hardie_lee_2005(calibration):
    assert len(calibration) == 2_357
    fit = btyd.fit_bg_nbd(calibration["frequency"], calibration["recency"], calibration["T"])
    for got, published in [(fit.r, 0.243), (fit.alpha, 4.414), (fit.a, 0.793), (fit.b, 2.426)]:
        assert got == pytest.approx(published, rel=0.01)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_reproduces_the_946_repeat_buyers_fit(calibration):
    assert (calibration["frequency"] > 0).sum() == 946
    fit = btyd.fit_gamma_gamma(calibration["frequency"], calibration["monetary_value"])
    for got, published in [(fit.p, 6.25), (fit.q, 3.74), (fit.gamma, 15.44)]:
        assert got == pytest.approx(published, rel=0.01)


def test_bg_nbd_predictions_behave():
    fit = btyd.BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0)
    # More repeat purchases at the same recency and age: more expected purchases.
    expected = fit.expected_purchases(52, frequency=[1, 3, 6], recency=[30, 30, 30], T=[38, 38, 38])
    assert np.all(np.diff(expected) > 0)
    # The same purchases long ago (older last purchase): less likely alive, fewer purchases.
    recent, stale = fit.expected_purchases(52, [3, 3], [35, 5], [38, 38])
    assert recent > stale
    assert fit.p_alive([0], [0], [38])[0] == 1.0  # BG/NBD: no repeat purchase, no chance to drop out yet
    # A one-time buyer (most of CDNOW) expects well under one purchase in the next 39 weeks.
    assert 0.0 < fit.expected_purchases(39, [0], [0], [38])[0] < 1.0


def test_gamma_gamma_shrinks_toward_the_population_mean():
    fit = btyd.GammaGammaFit(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0)
    population = 6.25 * 15.44 / 2.74
    one, many = fit.expected_order_value([1, 20], [100.0, 100.0])
    assert population < one < many < 100.0
    assert fit.expected_order_value([0], [0.0])[0] == pytest.approx(population)


def test_bad_summary_fails_loudly():
    with pytest.raises(ValueError, match="recency <= T"):
        btyd.fit_bg_nbd([1], [10], [5])


def test_fits_do_not_depend_on_row_order(calibration):
    """Scoring reads features in whatever order the warehouse returns them; training reads them
    sorted. The fits must agree to the bit, or one customer's BTYD features (and the XGBoost
    margin built on them) differ between a model's test run and its scores."""
    shuffled = calibration.sample(frac=1.0, random_state=7)
    for fit, columns in [
        (btyd.fit_bg_nbd, ["frequency", "recency", "T"]),
        (btyd.fit_gamma_gamma, ["frequency", "monetary_value"]),
    ]:
        assert fit(*(calibration[c] for c in columns)) == fit(*(shuffled[c] for c in columns))
