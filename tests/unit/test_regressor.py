"""The XGBoost regressor: the tuning search."""

from __future__ import annotations

import numpy as np


def test_tuning_never_loses_to_the_configured_parameters_on_valid_and_is_seeded():
    from clv_jobs.model import load_model_config
    from clv_jobs.regressor import TuneBudget, tune_xgboost

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 4)).astype(np.float32)
    y = np.exp(x[:, 0] + 0.5 * x[:, 1] * x[:, 2]) + rng.gamma(1.0, 0.2, 3000)
    config = load_model_config()
    args = (config, "reg:squarederror", x[:2000], y[:2000], None, x[2000:], y[2000:], None, TuneBudget(trials=5))
    params, rounds, summary = tune_xgboost(*args, progress=lambda m: None)
    assert summary["trials"] == 5
    assert summary["best_valid_gini"] >= summary["configured_valid_gini"]
    assert 2 <= params["max_depth"] <= 6 and 0.01 <= params["learning_rate"] <= 0.3
    assert 1 <= rounds <= config["xgboost"]["n_estimators"]
    again = tune_xgboost(*args, progress=lambda m: None)
    assert again[0] == params and again[1] == rounds
