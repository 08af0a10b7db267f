"""Training: the tuning search."""

from __future__ import annotations

import numpy as np

from clv_jobs.features import FeatureSpec

SPEC = FeatureSpec(ids=["customer_id", "as_of_date"], numeric=["frequency"], categorical=["country"], labels=[])


def test_tuning_never_loses_to_the_configured_parameters_on_valid_and_is_seeded():
    from clv_jobs.model import load_model_config
    from clv_jobs.train import TuneBudget, tune_xgboost

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


def test_selection_ranks_by_gini_among_candidates_near_the_best_rmse():
    from clv_jobs.train import select_candidate

    validation = {
        "reg:tweedie": {"normalized_gini": 0.70, "rmse": 130.0},  # ranks best, amounts far off
        "bgnbd_gamma_gamma": {"normalized_gini": 0.60, "rmse": 100.0},
        "blend:reg:tweedie": {"normalized_gini": 0.66, "rmse": 101.5},
    }
    assert select_candidate(validation, 0.02) == "blend:reg:tweedie"
    assert select_candidate(validation, 0.0) == "bgnbd_gamma_gamma"
    assert select_candidate(validation, 0.5) == "reg:tweedie"
