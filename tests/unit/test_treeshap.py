"""Exact TreeSHAP by decision pattern gives XGBoost's own contributions, row for row."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from clv_jobs import treeshap


def _data(seed: int, n: int = 4_000, features: int = 12):
    rng = np.random.default_rng(seed)
    x = rng.random((n, features)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take each split's default direction
    x[:, 3] = np.round(x[:, 3] * 4)  # ties at thresholds: XGBoost goes left on x < t only
    signal = np.nan_to_num(x[:, 0]) * 3 + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 3])
    y = np.maximum(signal * rng.gamma(1.0, 1.0, n), 0.0)
    margin = np.log(np.maximum(np.nan_to_num(x[:, 2]), 1e-3)).astype(np.float32)
    return x, y, margin


@pytest.mark.parametrize(
    ("objective", "with_margin"), [("reg:tweedie", True), ("reg:squarederror", False), ("reg:tweedie", False)]
)
def test_contributions_equal_xgboosts_treeshap(objective, with_margin):
    x, y, margin = _data(1)
    margin = margin if with_margin else None
    booster = xgb.train(
        {"objective": objective, "max_depth": 3, "eta": 0.1, "nthread": 1, "seed": 0},
        xgb.DMatrix(x, label=y, base_margin=margin),
        150,
    )
    assert treeshap.supports(booster)
    new_x, _, new_margin = _data(2, n=3_000)  # rows the model never saw
    new_margin = new_margin if with_margin else None
    expected = booster.predict(xgb.DMatrix(new_x, base_margin=new_margin), pred_contribs=True)
    got = treeshap.contributions(booster, new_x, new_margin)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-5)
    # and they add up to the margin, as XGBoost's do
    raw = booster.predict(xgb.DMatrix(new_x, base_margin=new_margin), output_margin=True)
    np.testing.assert_allclose(got.sum(axis=1), raw, rtol=1e-4, atol=1e-4)


def test_deep_trees_are_left_to_xgboost():
    x, y, _ = _data(3)
    booster = xgb.train({"max_depth": 6, "nthread": 1, "min_child_weight": 0}, xgb.DMatrix(x, label=y), 5)
    assert not treeshap.supports(booster)  # 2^63 patterns: no table
    with pytest.raises(ValueError, match="supports"):
        treeshap.contributions(booster, x)
