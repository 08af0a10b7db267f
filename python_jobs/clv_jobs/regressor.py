"""The XGBoost revenue regressor: its parameters from the config, a fit (early-stopped on the
validation as-of date when given one) and, for `clv-jobs train --tune`, an Optuna search of the
tree parameters. Training (`clv_jobs.train`) decides what to fit; this module fits it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb

from clv_jobs.evaluate import normalized_gini
from clv_jobs.model import BTYD_MARGIN_PREFIX, LOG_OBJECTIVE

__all__ = ["TuneBudget", "tune_xgboost", "fit_regressor", "predict_valid", "xgb_params"]


def xgb_params(config: dict, objective: str) -> dict:
    p = config["xgboost"]
    params = {
        "eta": p["learning_rate"],
        "max_depth": p["max_depth"],
        "min_child_weight": p["min_child_weight"],
        "subsample": p["subsample"],
        "colsample_bytree": p["colsample_bytree"],
        "lambda": p["reg_lambda"],
        "seed": p["seed"],
        "nthread": 2,
        "tree_method": "hist",
    }
    if objective == LOG_OBJECTIVE:
        params["objective"] = "reg:squarederror"
    else:
        params["objective"] = objective.removeprefix(BTYD_MARGIN_PREFIX)
    if params["objective"] == "reg:tweedie":
        params["tweedie_variance_power"] = p["tweedie_variance_power"]
    return params


def _target(y: np.ndarray, objective: str) -> np.ndarray:
    return np.log1p(y) if objective == LOG_OBJECTIVE else y


def fit_regressor(config, objective, x_train, y_train, m_train, x_valid=None, y_valid=None, m_valid=None, rounds=None):
    dtrain = xgb.DMatrix(x_train, label=_target(y_train, objective), base_margin=m_train)
    evals, kwargs = [], {}
    if x_valid is not None:
        dvalid = xgb.DMatrix(x_valid, label=_target(y_valid, objective), base_margin=m_valid)
        evals = [(dvalid, "valid")]
        kwargs["early_stopping_rounds"] = config["xgboost"]["early_stopping_rounds"]
    booster = xgb.train(
        xgb_params(config, objective),
        dtrain,
        num_boost_round=rounds or config["xgboost"]["n_estimators"],
        evals=evals,
        verbose_eval=False,
        **kwargs,
    )
    scale = 1.0
    if objective == LOG_OBJECTIVE:
        # expm1 of a mean log is a median: rescale so the train total is matched (smearing).
        fitted = np.expm1(booster.predict(dtrain))
        scale = float(y_train.sum() / max(fitted.sum(), 1e-9))
    return booster, scale


def predict_valid(booster: xgb.Booster, objective: str, x_valid, m_valid, scale: float) -> np.ndarray:
    pred = booster.predict(xgb.DMatrix(x_valid, base_margin=m_valid), iteration_range=(0, booster.best_iteration + 1))
    return np.expm1(pred) * scale if objective == LOG_OBJECTIVE else pred


@dataclass(frozen=True)
class TuneBudget:
    """The budget of `clv-jobs train --tune`: at most `trials` fits and `timeout_s` seconds."""

    trials: int = 30
    timeout_s: float = 600.0


def tune_xgboost(config, objective, x_train, y_train, m_train, x_valid, y_valid, m_valid, budget, progress):
    """Optuna TPE search of the tree parameters for `objective`, maximizing the validation
    normalized Gini (early stopping on valid as in the untuned fit). The configured parameters
    are the first trial, so tuning can only match or beat them on valid. Seeded: the same data
    and budget in trials give the same result. Returns (parameters, best_iteration, study summary)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = config["xgboost"]
    names = ["learning_rate", "max_depth", "min_child_weight", "subsample", "colsample_bytree", "reg_lambda"]

    def fit(trial: optuna.Trial) -> float:
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            # Depth bounds the cost of SHAP reasons at scoring time (leaves x depth^2 per tree).
            "max_depth": trial.suggest_int("max_depth", 2, 6),
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 200.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 100.0, log=True),
        }
        trial_config = {**config, "xgboost": {**base, **params}}
        booster, scale = fit_regressor(trial_config, objective, x_train, y_train, m_train, x_valid, y_valid, m_valid)
        trial.set_user_attr("best_iteration", booster.best_iteration + 1)
        gini = normalized_gini(y_valid, predict_valid(booster, objective, x_valid, m_valid, scale))
        progress(f"tuning trial {trial.number + 1}: valid normalized Gini {gini:.4f}")
        return gini

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=base["seed"]))
    study.enqueue_trial({name: base[name] for name in names})
    study.optimize(fit, n_trials=budget.trials, timeout=budget.timeout_s)
    best = study.best_trial
    summary = {
        "trials": len(study.trials),
        "best_valid_gini": best.value,
        "configured_valid_gini": study.trials[0].value,
    }
    return {**base, **best.params}, int(best.user_attrs["best_iteration"]), summary
