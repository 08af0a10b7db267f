"""Training: model families compete on the validation as-of date (XGBoost with each objective,
BG/NBD + Gamma-Gamma, and their blend, each calibrated to the realized total; ADR 0014); the
winner is refitted with a churn head and evaluated beside the baselines it must beat on the same
temporal test (DESIGN §7).

The split comes from dbt (`fct_clv_training_examples.split`): train and valid as-of dates have
label windows that end on or before the test as-of date, so nothing here can see the test
period's future.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from clv_jobs import monitor
from clv_jobs.baselines import Baselines, bg_nbd_gamma_gamma_predict
from clv_jobs.calibration import (
    FULL_YEAR_DAYS,
    LEVEL_SOURCES,
    at_btyd_level,
    beyond_validated_ages,
    calibrated_rmse,
    calibration_factor,
    describe_season,
    season_by_month,
)
from clv_jobs.evaluate import aggregate_bias, normalized_gini, rmse
from clv_jobs.features import FeatureSpec
from clv_jobs.model import (
    BTYD_FAMILY,
    BTYD_MARGIN_PREFIX,
    SUPPORT_FEATURES,
    SUPPORT_QUANTILE,
    ClvModel,
    Encoder,
    base_margin,
    btyd_factors,
    btyd_features,
    fit_btyd,
    require_columns,
    training_label,
)
from clv_jobs.regressor import TuneBudget, fit_regressor, predict_valid, tune_xgboost

__all__ = [
    "TrainResult",
    "train_models",
    "select_candidate",
]

BLEND_WEIGHTS = [w / 10 for w in range(1, 10)]


@dataclass
class TrainResult:
    model: ClvModel
    baselines: Baselines | None  # None when the fit ran on SageMaker: only its predictions come back
    validation: dict[str, dict[str, float]]
    best_iteration: int
    test: pd.DataFrame  # the test rows with every model's prediction as pred_<name>
    prediction_columns: list[str]
    tuning: dict | None = None  # trials, valid Gini (configured vs best) and the chosen parameters
    selected: str = ""  # the winning candidate on valid, e.g. "blend:reg:tweedie"
    # The BTYD family, calibrated on valid: registered instead when the winner fails the gates.
    fallback: ClvModel | None = None
    # Where the level comes from: "validation" (realized / predicted total on valid), "btyd" (BG/NBD
    # + Gamma-Gamma's total on the test date: its customers are older than valid's), or "none".
    level: str = "validation"


def train_models(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    config: dict,
    horizon_days: int,
    progress=lambda message: None,
    tune: TuneBudget | None = None,
) -> TrainResult:
    """Select the objective on valid (then, with `tune`, its parameters), refit on train +
    valid, score test for every model.

    Train and valid rows are labelled over the frame's `label_horizon_days` (the horizon unless
    the history is short): then every model learns that window and is carried to the horizon,
    where test is judged (ADR 0015)."""
    label, active = config["labels"]["revenue"], config["labels"]["active"]
    require_columns(frame, spec.features + ["split", "as_of_date", label, active], "fct_clv_training_examples")
    for needed in (label, active):
        if needed not in spec.labels:
            raise ValueError(f"fct_clv_training_examples.{needed}: not marked meta.ml_role = label in dbt")
    frame = frame[frame["split"].isin(["train", "valid", "test"])]
    fit_label, label_days = training_label(frame, config, horizon_days)
    if label_days < horizon_days:
        progress(
            f"label window: {label_days} days (the history has no {horizon_days}-day training labels); "
            f"predictions carried to {horizon_days} days by BG/NBD's expected-purchases ratio (ADR 0015)"
        )
    progress(f"BTYD features: BG/NBD + Gamma-Gamma fitted at each of {frame['as_of_date'].nunique()} as-of dates")
    frame = pd.concat([frame, btyd_features(frame, label_days, carry_to_days=horizon_days)], axis=1)
    train = frame[frame["split"] == "train"]
    valid = frame[frame["split"] == "valid"]
    test = frame[frame["split"] == "test"].copy()
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        if part.empty:
            raise ValueError(
                f"fct_clv_training_examples has no {name!r} rows: the data must span at least "
                f"the test as-of date's horizon and two month ends before it (docs/decisions/0003, 0015)"
            )
    encoder = Encoder.fit(train, spec)
    # Each matrix once: every objective and the refit reuse them.
    x_train, x_valid = encoder.transform(train), encoder.transform(valid)
    y_train, y_valid = train[fit_label].to_numpy(float), valid[fit_label].to_numpy(float)
    beyond_ages = beyond_validated_ages(config, valid, test, progress)
    level = "none" if not config["training"].get("calibrate", True) else "btyd" if beyond_ages else "validation"
    objectives = list(config["xgboost"]["objectives"])
    if beyond_ages:
        # Trees extrapolate flat beyond the customer ages they saw; boosted from BG/NBD + Gamma-Gamma
        # they carry its age structure and correct it (ADR 0019).
        objectives = [o for o in objectives if o.startswith(BTYD_MARGIN_PREFIX)]
        progress(f"objectives boosted from BG/NBD + Gamma-Gamma: {objectives or 'none configured'}")

    validation, fits, candidates = {}, {}, {}
    for objective in objectives:
        progress(f"objective {objective}: fitting on {len(train):,} train rows, validating on {len(valid):,}")
        m_valid = base_margin(valid, objective)
        booster, scale = fit_regressor(
            config, objective, x_train, y_train, base_margin(train, objective), x_valid, y_valid, m_valid
        )
        pred = predict_valid(booster, objective, x_valid, m_valid, scale)
        candidates[objective] = (objective, 1.0, np.maximum(pred, 0))
        fits[objective] = booster.best_iteration + 1
    # The BTYD family (unsupervised per as-of date: nothing to fit on train) and the blend of the
    # best-ranking XGBoost objective with it, the weight chosen on valid.
    btyd = bg_nbd_gamma_gamma_predict(valid, label_days)
    candidates[BTYD_FAMILY] = (BTYD_FAMILY, 0.0, btyd)
    if objectives:
        ranker = max(objectives, key=lambda o: normalized_gini(y_valid, candidates[o][2]))
        weight = min(BLEND_WEIGHTS, key=lambda w: calibrated_rmse(y_valid, w * candidates[ranker][2] + (1 - w) * btyd))
        candidates[f"blend:{ranker}"] = (ranker, weight, weight * candidates[ranker][2] + (1 - weight) * btyd)

    # Candidates are compared at the validation date's realized total whatever their level will be:
    # judged at BTYD's total there instead, the choice moved and lost on test (ADR 0019).
    for name, (_, w, pred) in candidates.items():
        factor = calibration_factor(y_valid, pred) if level != "none" else 1.0
        validation[name] = {
            "rmse": rmse(y_valid, pred * factor),
            "normalized_gini": normalized_gini(y_valid, pred),
            "bias_uncalibrated": aggregate_bias(y_valid, pred),
            "calibration": factor,
            "blend_weight": w,
        }
    selected = select_candidate(validation, config["training"]["selection_rmse_tolerance"])
    best, weight, _ = candidates[selected]
    chosen = validation[selected]
    progress(
        "candidates on valid: "
        + "; ".join(f"{n} Gini {v['normalized_gini']:.3f} RMSE {v['rmse']:.2f}" for n, v in validation.items())
    )
    progress(
        f"selected {selected} (weight of XGBoost {weight:.1f}, "
        + (f"calibration x{chosen['calibration']:.3f}" if level == "validation" else f"level: {LEVEL_SOURCES[level]}")
        + "): refitting on train + valid"
    )

    tuning = None
    if tune is not None and weight > 0:
        progress(f"tuning {best} with optuna: at most {tune.trials} trials or {tune.timeout_s:.0f} s")
        params, fits[best], tuning = tune_xgboost(
            config,
            best,
            x_train,
            y_train,
            base_margin(train, best),
            x_valid,
            y_valid,
            base_margin(valid, best),
            tune,
            progress,
        )
        config = {**config, "xgboost": params}
        tuning["params"] = {k: v for k, v in params.items() if k != "objectives"}
        progress(
            f"tuned: valid normalized Gini {tuning['best_valid_gini']:.4f} "
            f"(configured parameters {tuning['configured_valid_gini']:.4f}) after {tuning['trials']} trials"
        )
    # A label window under a year covers part of the seasons: the validation date's factor is
    # carried to other as-of months by the model's seasonal index (ADR 0020).
    seasonal = level == "validation" and label_days == horizon_days < FULL_YEAR_DAYS
    seasonal = seasonal and config["training"].get("seasonal_calibration", True)
    valid_date = valid["as_of_date"].max()
    family = {
        "weight": weight,
        "season_month": valid_date.month if seasonal else None,
        "calibration": chosen["calibration"] if level == "validation" else 1.0,
        "label_days": label_days,
        # Levelled at BTYD's total on these rows once fitted (ADR 0019), and BTYD alone beyond the
        # trees' support: beyond the validated ages the heaviest buyers are beyond their rows too (ADR 0021).
        "btyd_level_rows": test if level == "btyd" else None,
    }

    both = pd.concat([train, valid])
    x_both = np.vstack([x_train, x_valid])
    model = _fit_final(config, best, fits.get(best), encoder, both, x_both, fit_label, active, horizon_days, family)

    if seasonal:
        progress(describe_season(model.season_by_month, valid_date, test["as_of_date"].max()))
    if model.support_limits:
        beyond = float(model.beyond_support(test).mean())
        progress(
            "support: "
            + ", ".join(f"{name} above {limit:,.2f}" for name, limit in model.support_limits.items())
            + f" (the {SUPPORT_QUANTILE:.1%} quantile of the rows the trees learned from): BG/NBD + Gamma-Gamma "
            f"alone for {beyond:.2%} of the test date's customers (ADR 0021)"
        )
    progress("baselines: company average, heuristic, linear RFM, BG/NBD + Gamma-Gamma")
    baselines = Baselines.fit(both, fit_label, active, horizon_days)
    test["pred_xgboost"] = model.predict_revenue(test)
    test["pred_churn_probability"] = model.predict_churn(test)
    columns = ["pred_xgboost"]
    for name, values in baselines.predict(test).items():
        test[f"pred_{name}"] = values
        columns.append(f"pred_{name}")

    learned = both
    if config.get("training", {}).get("refit_with_test_date", False):
        # The test rows have been evaluated (above, by the model that never saw them); the
        # registered model now learns from them too, so each retrain slides to the newest
        # matured as-of date and its drift reference is today's newest population.
        learned = pd.concat([both, frame[frame["split"] == "test"]])
        progress(f"refit on train + valid + test ({len(learned):,} rows): the registered model")
        x_learned = np.vstack([x_both, encoder.transform(learned.iloc[len(both) :])])
        model = _fit_final(
            config, best, fits.get(best), encoder, learned, x_learned, fit_label, active, horizon_days, family
        )
    newest = learned[learned["as_of_date"] == learned["as_of_date"].max()]
    progress(
        f"drift baseline: quantile bins of every feature and prediction at {newest['as_of_date'].iloc[0]:%Y-%m-%d}"
    )
    fallback = None
    if model.family != BTYD_FAMILY and config["training"].get("fallback_to_btyd", True):
        fallback = dataclasses.replace(
            model,
            regressor=None,
            objective=BTYD_FAMILY,
            scale=1.0,
            blend_weight=0.0,
            calibration=validation[BTYD_FAMILY]["calibration"] if level == "validation" else 1.0,
            support_limits=None,
        )
        if seasonal:
            fallback.season_by_month = season_by_month(fallback, learned, fit_label, family["season_month"])
    for each in filter(None, (model, fallback)):
        each.drift_baseline = monitor.drift_baseline(
            newest,
            spec.numeric,
            spec.categorical,
            {name: getattr(each, method)(newest) for name, method in monitor.PREDICTIONS.items()},
            as_of_date=f"{newest['as_of_date'].iloc[0]:%Y-%m-%d}",
        )
    return TrainResult(
        model, baselines, validation, fits.get(best, 0), test, columns, tuning, selected, fallback, level
    )


def select_candidate(validation: dict[str, dict[str, float]], rmse_tolerance: float) -> str:
    """The candidate with the best validation normalized Gini among those whose (calibrated)
    validation RMSE is within `rmse_tolerance` of the best RMSE: ranking is what CLV is used
    for, but not at the price of the amounts. Ties go to the lower RMSE."""
    best_rmse = min(v["rmse"] for v in validation.values())
    eligible = {n: v for n, v in validation.items() if v["rmse"] <= best_rmse * (1 + rmse_tolerance)}
    return max(eligible, key=lambda n: (round(eligible[n]["normalized_gini"], 4), -eligible[n]["rmse"]))


def _fit_final(config, objective, rounds, encoder, rows, x, label, active, horizon_days, family) -> ClvModel:
    """The revenue model (the chosen objective, the validated number of rounds; none for the BTYD
    family) and the churn head fitted on `rows` (encoded as `x`), at the family's calibration or
    levelled at BTYD's total on `family["btyd_level_rows"]` (then BTYD alone beyond the support
    of `rows`, ADR 0021)."""
    regressor, scale = None, 1.0
    if family["weight"] > 0:
        regressor, scale = fit_regressor(
            config, objective, x, rows[label].to_numpy(float), base_margin(rows, objective), rounds=rounds
        )
    churned = (~rows[active].astype(bool)).to_numpy(dtype=float)
    c = config["churn"]
    churn = xgb.train(
        {
            "objective": "binary:logistic",
            "eta": c["learning_rate"],
            "max_depth": c["max_depth"],
            "nthread": 2,
            "seed": config["xgboost"]["seed"],
            "tree_method": "hist",
            "eval_metric": "logloss",
        },
        xgb.DMatrix(x, label=churned),
        num_boost_round=c["n_estimators"],
    )
    model = ClvModel(
        encoder,
        regressor,
        churn,
        objective,
        scale,
        horizon_days,
        blend_weight=family["weight"],
        calibration=family["calibration"],
        btyd_reference=btyd_factors(rows).mean(axis=0).tolist(),
        btyd_fits=fit_btyd(rows),
        label_horizon_days=family["label_days"] if family["label_days"] < horizon_days else None,
    )
    if family.get("season_month"):
        model.season_by_month = season_by_month(model, rows, label, family["season_month"])
    level_rows = family.get("btyd_level_rows")
    if level_rows is None:
        return model
    support = [name for name in SUPPORT_FEATURES if name in encoder.numeric]
    if regressor is not None and support:
        # astype: the warehouse returns DECIMAL columns as Python Decimals.
        model.support_limits = {
            name: float(rows[name].astype("float64").quantile(SUPPORT_QUANTILE)) for name in support
        }
    return at_btyd_level(model, level_rows)
