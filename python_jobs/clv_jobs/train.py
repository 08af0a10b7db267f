"""Training: XGBoost on horizon revenue (objective chosen on the validation as-of date), a churn
head, and the baselines it must beat, all evaluated on the same temporal test (DESIGN §7).

The split comes from dbt (`fct_clv_training_examples.split`): train and valid as-of dates have
label windows that end on or before the test as-of date, so nothing here can see the test
period's future.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LinearRegression

from clv_jobs import btyd, monitor
from clv_jobs.evaluate import normalized_gini, rmse
from clv_jobs.features import FeatureSpec

__all__ = [
    "load_model_config",
    "order_examples",
    "Encoder",
    "ClvModel",
    "Baselines",
    "TrainResult",
    "TuneBudget",
    "tune_xgboost",
    "train_models",
    "RFM_COLUMNS",
    "BTYD_FEATURES",
    "btyd_features",
]

RFM_COLUMNS = ["frequency", "recency_days", "tenure_days", "days_since_last_purchase", "monetary_value_usd"]
LOG_OBJECTIVE = "log1p:squarederror"
# Boost from the BG/NBD + Gamma-Gamma prediction: its log is the base margin of a Tweedie model,
# so the trees learn what the BTYD model misses (channels, web activity) instead of re-learning it.
BTYD_MARGIN_PREFIX = "btyd_margin:"


def load_model_config(path: Path | None = None) -> dict:
    """The versioned parameters and gates (`conf/model.toml`, or `path`)."""
    if path is None:
        return tomllib.loads(resources.files("clv_jobs").joinpath("conf/model.toml").read_text())
    return tomllib.loads(Path(path).read_text())


def order_examples(frame: pd.DataFrame) -> pd.DataFrame:
    """`as_of_date` as datetimes, rows sorted by as-of date and customer. Engines return rows in
    no fixed order; row subsampling in XGBoost would then differ run to run."""
    frame = frame.assign(as_of_date=pd.to_datetime(frame["as_of_date"]))
    return frame.sort_values(["as_of_date", "customer_id"], kind="stable").reset_index(drop=True)


def _require(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}")


@dataclass
class Encoder:
    """Numeric features as they are (XGBoost handles nulls); categoricals one-hot with the
    categories seen in training (others map to all zeros)."""

    numeric: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, spec: FeatureSpec) -> Encoder:
        _require(frame, spec.features, "training examples")
        categories = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in spec.categorical}
        return cls(list(spec.numeric) + BTYD_FEATURES, categories)

    @property
    def feature_names(self) -> list[str]:
        return self.numeric + [f"{c}={v}" for c, values in self.categories.items() for v in values]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        _require(frame, self.numeric + list(self.categories), "features")
        parts = [frame[self.numeric].astype("float64").to_numpy(dtype=np.float32, na_value=np.nan)]
        for column, values in self.categories.items():
            codes = pd.Index(values).get_indexer(frame[column].astype(str))  # -1: unseen in training
            onehot = np.zeros((len(frame), len(values)), dtype=np.float32)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        return np.hstack(parts)

    def to_dict(self) -> dict:
        return {"numeric": self.numeric, "categories": self.categories}

    @classmethod
    def from_dict(cls, data: dict) -> Encoder:
        return cls(list(data["numeric"]), {k: list(v) for k, v in data["categories"].items()})


@dataclass
class ClvModel:
    """The revenue regressor, the churn head and the encoder, saved as plain files."""

    encoder: Encoder
    regressor: xgb.Booster
    churn: xgb.Booster
    objective: str
    scale: float  # multiplies the log-target model's predictions so train totals match
    horizon_days: int
    drift_baseline: dict | None = None  # training distributions for `clv-jobs monitor`

    def dmatrix(self, frame: pd.DataFrame, with_margin: bool = True) -> xgb.DMatrix:
        """The model's input; BTYD features are fitted on `frame` when it lacks them. The BTYD
        base margin belongs to the revenue model only (`with_margin=False` for the churn head)."""
        if not set(BTYD_FEATURES) <= set(frame.columns):
            frame = pd.concat([frame, btyd_features(frame, self.horizon_days)], axis=1)
        margin = base_margin(frame, self.objective) if with_margin else None
        return xgb.DMatrix(self.encoder.transform(frame), base_margin=margin)

    def dmatrices(self, frame: pd.DataFrame) -> tuple[xgb.DMatrix, xgb.DMatrix]:
        """(revenue input, churn input) from one encoding of `frame` (BTYD columns present)."""
        x = self.encoder.transform(frame)
        return xgb.DMatrix(x, base_margin=base_margin(frame, self.objective)), xgb.DMatrix(x)

    def predict_revenue(self, frame: pd.DataFrame | xgb.DMatrix) -> np.ndarray:
        """Expected net revenue over the horizon; `frame` or its `dmatrix(frame)`."""
        data = frame if isinstance(frame, xgb.DMatrix) else self.dmatrix(frame)
        raw = self.regressor.predict(data)
        if self.objective == LOG_OBJECTIVE:
            raw = np.expm1(raw) * self.scale
        return np.maximum(raw.astype(np.float64), 0.0)

    def predict_churn(self, frame: pd.DataFrame | xgb.DMatrix) -> np.ndarray:
        """Probability of no purchase in the 180 days after the as-of date; `frame` or its
        `dmatrix(frame, with_margin=False)`."""
        data = frame if isinstance(frame, xgb.DMatrix) else self.dmatrix(frame, with_margin=False)
        return self.churn.predict(data).astype(np.float64)

    def contributions(self, frame: pd.DataFrame | xgb.DMatrix, approx: bool = False) -> np.ndarray:
        """XGBoost's own SHAP contributions on the model's output scale (last column: bias);
        `frame` or its `dmatrix(frame)`. `approx`: XGBoost's approximate contributions
        (Saabas: each split's change in the node mean, credited to its feature), about ten
        times faster than exact TreeSHAP; they also add up to the prediction."""
        data = frame if isinstance(frame, xgb.DMatrix) else self.dmatrix(frame)
        return self.regressor.predict(data, pred_contribs=True, approx_contribs=approx)

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.regressor.save_model(directory / "regressor.json")
        self.churn.save_model(directory / "churn.json")
        meta = {
            "encoder": self.encoder.to_dict(),
            "objective": self.objective,
            "scale": self.scale,
            "horizon_days": self.horizon_days,
        }
        (directory / "clv_model.json").write_text(json.dumps(meta, indent=2))
        if self.drift_baseline is not None:
            (directory / "drift_baseline.json").write_text(json.dumps(self.drift_baseline))
        return directory

    @classmethod
    def load(cls, directory: Path) -> ClvModel:
        directory = Path(directory)
        meta = json.loads((directory / "clv_model.json").read_text())
        regressor, churn = xgb.Booster(), xgb.Booster()
        regressor.load_model(directory / "regressor.json")
        churn.load_model(directory / "churn.json")
        baseline_path = directory / "drift_baseline.json"
        return cls(
            Encoder.from_dict(meta["encoder"]),
            regressor,
            churn,
            meta["objective"],
            float(meta["scale"]),
            int(meta["horizon_days"]),
            json.loads(baseline_path.read_text()) if baseline_path.exists() else None,
        )


@dataclass
class Baselines:
    """The honest comparisons, fitted on training data (BTYD on each frame's own history)."""

    company_average: float
    retention_rate: float
    linear: LinearRegression
    horizon_days: int

    @classmethod
    def fit(cls, train: pd.DataFrame, label: str, active_label: str, horizon_days: int) -> Baselines:
        _require(train, RFM_COLUMNS + [label, active_label], "training examples")
        linear = LinearRegression().fit(train[RFM_COLUMNS].to_numpy(dtype=float), train[label].to_numpy(float))
        return cls(float(train[label].mean()), float(train[active_label].astype(float).mean()), linear, horizon_days)

    def predict(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        n = len(frame)
        years = self.horizon_days / 365.25
        rate = (frame["frequency"].to_numpy(float) + 1) / np.maximum(frame["tenure_days"].to_numpy(float), 30) * 365.25
        heuristic = frame["avg_purchase_value_usd"].to_numpy(float) * rate * years * self.retention_rate
        linear = np.maximum(self.linear.predict(frame[RFM_COLUMNS].to_numpy(dtype=float)), 0.0)
        return {
            "company_average": np.full(n, self.company_average),
            "heuristic": np.maximum(heuristic, 0.0),
            "linear_rfm": linear,
            "bgnbd_gamma_gamma": bg_nbd_gamma_gamma_predict(frame, self.horizon_days),
        }


BTYD_FEATURES = ["btyd_p_alive", "btyd_expected_purchases", "btyd_expected_order_value_usd"]


BTYD_MAX_FIT_ROWS = 100_000


def btyd_features(frame: pd.DataFrame, horizon_days: int, max_fit_rows: int = BTYD_MAX_FIT_ROWS) -> pd.DataFrame:
    """BG/NBD + Gamma-Gamma fitted on each as-of date's own rows (time in weeks): P(alive),
    expected purchases over the horizon and expected order value, per row.

    Unsupervised on history: only features (facts on or before the as-of date) go in, so these
    are as point-in-time as the features themselves. Every date's fit starts from the same point
    and does not depend on row order (the fits sum over sorted distinct values), so training and
    scoring compute bit-identical values for the same customers: scoring reads its rows in no
    fixed order. A date with more than `max_fit_rows` rows is fitted on a seeded sample of that
    many, drawn in customer-id order (seven parameters: the estimates barely move, the time is
    bounded); every row is scored.
    """
    _require(frame, RFM_COLUMNS + ["customer_id", "as_of_date", "avg_purchase_value_usd"], "BTYD inputs")
    out = pd.DataFrame(index=frame.index, columns=BTYD_FEATURES, dtype=float)
    for _, idx in sorted(frame.groupby("as_of_date").indices.items()):
        part = frame.iloc[idx]
        x = part["frequency"].to_numpy(float)
        t_x = part["recency_days"].to_numpy(float) / 7
        t = part["tenure_days"].to_numpy(float) / 7
        monetary = part["monetary_value_usd"].to_numpy(float)
        fit = slice(None)
        if len(part) > max_fit_rows:
            by_customer = np.argsort(part["customer_id"].astype(str).to_numpy(), kind="stable")
            fit = by_customer[np.random.default_rng(0).choice(len(part), max_fit_rows, replace=False)]
        bg = btyd.fit_bg_nbd(x[fit], t_x[fit], t[fit])
        try:
            gg = btyd.fit_gamma_gamma(x[fit], monetary[fit])
            spend = gg.expected_order_value(x, monetary)
        except ValueError:  # no repeat buyers yet at this date
            # sorted first, so the mean does not depend on row order either
            spend = np.full(len(part), np.nanmean(np.sort(part["avg_purchase_value_usd"].to_numpy(float))))
        out.iloc[idx] = np.column_stack(
            [bg.p_alive(x, t_x, t), bg.expected_purchases(horizon_days / 7, x, t_x, t), spend]
        )
    return out.astype(float)


def base_margin(frame: pd.DataFrame, objective: str) -> np.ndarray | None:
    """Log of the BTYD revenue prediction for `btyd_margin:` objectives, else None."""
    if not objective.startswith(BTYD_MARGIN_PREFIX):
        return None
    _require(frame, BTYD_FEATURES, "BTYD margin")
    revenue = frame["btyd_expected_purchases"].to_numpy(float) * frame["btyd_expected_order_value_usd"].to_numpy(float)
    return np.log(np.maximum(revenue, 1e-3))


def bg_nbd_gamma_gamma_predict(frame: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """The BG/NBD + Gamma-Gamma baseline: expected purchases x expected order value."""
    if set(BTYD_FEATURES) <= set(frame.columns):
        btyd_frame = frame[BTYD_FEATURES]
    else:
        btyd_frame = btyd_features(frame, horizon_days)
    values = btyd_frame["btyd_expected_purchases"] * btyd_frame["btyd_expected_order_value_usd"]
    return np.maximum(values.to_numpy(float), 0.0)


@dataclass
class TrainResult:
    model: ClvModel
    baselines: Baselines | None  # None when the fit ran on SageMaker: only its predictions come back
    validation: dict[str, dict[str, float]]
    best_iteration: int
    test: pd.DataFrame  # the test rows with every model's prediction as pred_<name>
    prediction_columns: list[str]
    tuning: dict | None = None  # trials, valid Gini (configured vs best) and the chosen parameters


def _xgb_params(config: dict, objective: str) -> dict:
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


def _fit_regressor(config, objective, x_train, y_train, m_train, x_valid=None, y_valid=None, m_valid=None, rounds=None):
    dtrain = xgb.DMatrix(x_train, label=_target(y_train, objective), base_margin=m_train)
    evals, kwargs = [], {}
    if x_valid is not None:
        dvalid = xgb.DMatrix(x_valid, label=_target(y_valid, objective), base_margin=m_valid)
        evals = [(dvalid, "valid")]
        kwargs["early_stopping_rounds"] = config["xgboost"]["early_stopping_rounds"]
    booster = xgb.train(
        _xgb_params(config, objective),
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


def _predict_valid(booster: xgb.Booster, objective: str, x_valid, m_valid, scale: float) -> np.ndarray:
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
        booster, scale = _fit_regressor(trial_config, objective, x_train, y_train, m_train, x_valid, y_valid, m_valid)
        trial.set_user_attr("best_iteration", booster.best_iteration + 1)
        gini = normalized_gini(y_valid, _predict_valid(booster, objective, x_valid, m_valid, scale))
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


def train_models(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    config: dict,
    horizon_days: int,
    progress=lambda message: None,
    tune: TuneBudget | None = None,
) -> TrainResult:
    """Select the objective on valid (then, with `tune`, its parameters), refit on train +
    valid, score test for every model."""
    label, active = config["labels"]["revenue"], config["labels"]["active"]
    _require(frame, spec.features + ["split", "as_of_date", label, active], "fct_clv_training_examples")
    for needed in (label, active):
        if needed not in spec.labels:
            raise ValueError(f"fct_clv_training_examples.{needed}: not marked meta.ml_role = label in dbt")
    frame = frame[frame["split"].isin(["train", "valid", "test"])]
    progress(f"BTYD features: BG/NBD + Gamma-Gamma fitted at each of {frame['as_of_date'].nunique()} as-of dates")
    frame = pd.concat([frame, btyd_features(frame, horizon_days)], axis=1)
    train = frame[frame["split"] == "train"]
    valid = frame[frame["split"] == "valid"]
    test = frame[frame["split"] == "test"].copy()
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        if part.empty:
            raise ValueError(
                f"fct_clv_training_examples has no {name!r} rows: the data must span at least "
                f"two label horizons plus the training window (see docs/decisions/0003)"
            )
    encoder = Encoder.fit(train, spec)
    # Each matrix once: every objective and the refit reuse them.
    x_train, x_valid = encoder.transform(train), encoder.transform(valid)
    y_train, y_valid = train[label].to_numpy(float), valid[label].to_numpy(float)

    validation, fits = {}, {}
    for objective in config["xgboost"]["objectives"]:
        progress(f"objective {objective}: fitting on {len(train):,} train rows, validating on {len(valid):,}")
        m_valid = base_margin(valid, objective)
        booster, scale = _fit_regressor(
            config, objective, x_train, y_train, base_margin(train, objective), x_valid, y_valid, m_valid
        )
        pred = _predict_valid(booster, objective, x_valid, m_valid, scale)
        validation[objective] = {
            "rmse": rmse(y_valid, np.maximum(pred, 0)),
            "normalized_gini": normalized_gini(y_valid, pred),
        }
        fits[objective] = booster.best_iteration + 1
    # Ranking is what CLV is used for: the best validation Gini wins (RMSE breaks ties).
    best = max(validation, key=lambda o: (round(validation[o]["normalized_gini"], 4), -validation[o]["rmse"]))
    progress(
        f"best objective on valid: {best} (normalized Gini {validation[best]['normalized_gini']:.3f}, "
        f"RMSE {validation[best]['rmse']:.2f}); refitting on train + valid"
    )

    tuning = None
    if tune is not None:
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

    both = pd.concat([train, valid])
    x_both = np.vstack([x_train, x_valid])
    regressor, scale = _fit_regressor(
        config, best, x_both, np.r_[y_train, y_valid], base_margin(both, best), rounds=fits[best]
    )
    churned = (~both[active].astype(bool)).to_numpy(dtype=float)
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
        xgb.DMatrix(x_both, label=churned),
        num_boost_round=c["n_estimators"],
    )
    model = ClvModel(encoder, regressor, churn, best, scale, horizon_days)
    progress("drift baseline: quantile bins of every feature and prediction on train + valid")
    model.drift_baseline = monitor.drift_baseline(
        both,
        spec.numeric,
        spec.categorical,
        {name: getattr(model, method)(both) for name, method in monitor.PREDICTIONS.items()},
    )

    progress("baselines: company average, heuristic, linear RFM, BG/NBD + Gamma-Gamma")
    baselines = Baselines.fit(both, label, active, horizon_days)
    test["pred_xgboost"] = model.predict_revenue(test)
    test["pred_churn_probability"] = model.predict_churn(test)
    columns = ["pred_xgboost"]
    for name, values in baselines.predict(test).items():
        test[f"pred_{name}"] = values
        columns.append(f"pred_{name}")
    return TrainResult(model, baselines, validation, fits[best], test, columns, tuning)
