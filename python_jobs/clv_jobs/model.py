"""The model as it is saved, registered and served: the feature encoder, the revenue model of
one family (XGBoost, BG/NBD + Gamma-Gamma, or a blend of the two; ADR 0014), the XGBoost churn
head (`ClvModel`) and the versioned config; the BTYD features both heads read are in
`btyd_features` (re-exported here).

Training (`train`) builds one; scoring, evaluation and the registry only load and apply it, so
none of them imports the training code.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from clv_jobs import treeshap
from clv_jobs.btyd_features import (
    BTYD_CARRY,
    BTYD_FEATURES,
    BTYD_MARGIN_PREFIX,
    BTYD_REASONS,
    RFM_COLUMNS,
    base_margin,
    btyd_factors,
    btyd_features,
    btyd_revenue,
    fit_btyd,
    product_shapley,
    require_columns,
)
from clv_jobs.features import FeatureSpec

__all__ = [
    "load_model_config",
    "order_examples",
    "require_columns",
    "training_label",
    "Encoder",
    "ClvModel",
    "RFM_COLUMNS",
    "LOG_OBJECTIVE",
    "BTYD_MARGIN_PREFIX",
    "BTYD_FEATURES",
    "BTYD_CARRY",
    "BTYD_REASONS",
    "BTYD_FAMILY",
    "SUPPORT_FEATURES",
    "SUPPORT_QUANTILE",
    "btyd_features",
    "fit_btyd",
    "btyd_revenue",
    "btyd_factors",
    "product_shapley",
    "base_margin",
]

LOG_OBJECTIVE = "log1p:squarederror"
# The objective of a model whose revenue is BG/NBD + Gamma-Gamma alone (no XGBoost regressor).
BTYD_FAMILY = "bgnbd_gamma_gamma"
# BG/NBD + Gamma-Gamma's own inputs (purchases, spend). A row beyond this quantile of the rows the
# trees learned from, on either, is where they saw almost no one: BTYD predicts it alone (ADR 0021).
SUPPORT_FEATURES = ["frequency", "net_revenue_to_date_usd"]
SUPPORT_QUANTILE = 0.999


def load_model_config(path: Path | None = None) -> dict:
    """The versioned parameters and gates (`conf/model.toml`, or `path`). TOML files named by
    `CLV_MODEL_CONFIG` (several separated by ":", later ones win) override them key by key within
    each table (e.g. looser gates on a small sample)."""
    if path is not None:
        return tomllib.loads(Path(path).read_text())
    config = tomllib.loads(resources.files("clv_jobs").joinpath("conf/model.toml").read_text())
    for override in filter(None, os.environ.get("CLV_MODEL_CONFIG", "").split(os.pathsep)):
        for table, values in tomllib.loads(Path(override).read_text()).items():
            if table not in config:
                raise ValueError(f"{override}: [{table}] is not a table of conf/model.toml")
            unknown = set(values) - set(config[table])
            if unknown:
                raise ValueError(f"{override}: {sorted(unknown)} not in [{table}] of conf/model.toml")
            config[table].update(values)
    return config


def order_examples(frame: pd.DataFrame) -> pd.DataFrame:
    """`as_of_date` as datetimes, rows sorted by as-of date and customer. Engines return rows in
    no fixed order; row subsampling in XGBoost would then differ run to run."""
    frame = frame.assign(as_of_date=pd.to_datetime(frame["as_of_date"]))
    return frame.sort_values(["as_of_date", "customer_id"], kind="stable").reset_index(drop=True)


def training_label(frame: pd.DataFrame, config: dict, horizon_days: int) -> tuple[str, int]:
    """(the revenue column train and valid rows learn from, its window in days): the horizon's
    label, or on a short history the label window of `label_horizon_days` (ADR 0015)."""
    label_days = int(frame["label_horizon_days"].iloc[0]) if "label_horizon_days" in frame.columns else horizon_days
    if label_days >= horizon_days:
        return config["labels"]["revenue"], horizon_days
    column = config["labels"]["training_revenue"]
    require_columns(frame, [column], "fct_clv_training_examples")
    return column, label_days


@dataclass
class Encoder:
    """Numeric features as they are (XGBoost handles nulls); categoricals one-hot with the
    categories seen in training (others map to all zeros)."""

    numeric: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, spec: FeatureSpec) -> Encoder:
        require_columns(frame, spec.features, "training examples")
        categories = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in spec.categorical}
        return cls(list(spec.numeric) + BTYD_FEATURES, categories)

    @property
    def feature_names(self) -> list[str]:
        return self.numeric + [f"{c}={v}" for c, values in self.categories.items() for v in values]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        require_columns(frame, self.numeric + list(self.categories), "features")
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
    """The revenue model, the churn head and the encoder, saved as plain files.

    Revenue = calibration x (w x XGBoost + (1 - w) x BG/NBD + Gamma-Gamma), w = `blend_weight`:
    1 is the XGBoost family, 0 the BTYD family (no regressor), between a blend. `calibration`
    was fitted on the validation as-of date so the total predicted matches the realized one;
    `season_by_month`, when set (horizons under a year, ADR 0020), multiplies each row by its
    as-of month's seasonal index relative to the validation date's month.

    A model trained on a label window shorter than its horizon (`label_horizon_days`, a short
    history; ADR 0015) predicts over that window and carries each row to the horizon by BG/NBD's
    ratio of expected purchases, E[X(horizon)] / E[X(window)] (`BTYD_CARRY`).

    With `support_limits` (set when the test date's customers are older than any validated, ADR
    0021), a row beyond any limit is BG/NBD + Gamma-Gamma's prediction alone, uncalibrated: the
    trees' correction is not applied where they learned from almost no one.
    """

    encoder: Encoder
    regressor: xgb.Booster | None
    churn: xgb.Booster
    objective: str
    scale: float  # multiplies the log-target model's predictions so train totals match
    horizon_days: int
    drift_baseline: dict | None = None  # training distributions for `clv-jobs monitor`
    blend_weight: float = 1.0
    calibration: float = 1.0
    # The BTYD factors' means on the training rows: the reference their reasons are measured from.
    btyd_reference: list[float] | None = None
    # BG/NBD + Gamma-Gamma parameters of the newest training date (`fit_btyd`), for serving.
    btyd_fits: dict | None = None
    # The label window the model learned from, when shorter than `horizon_days`.
    label_horizon_days: int | None = None
    # Twelve multipliers by the as-of date's calendar month (Jan..Dec), 1 at the validation date's.
    season_by_month: list[float] | None = None
    # SUPPORT_FEATURES' SUPPORT_QUANTILE on the rows the trees learned from (ADR 0021).
    support_limits: dict[str, float] | None = None

    @property
    def label_days(self) -> int:
        return self.label_horizon_days or self.horizon_days

    @property
    def family(self) -> str:
        if self.blend_weight >= 1.0:
            return "xgboost"
        return BTYD_FAMILY if self.blend_weight <= 0.0 else "blend"

    @property
    def reason_names(self) -> list[str]:
        """The names of `contributions`' columns (before the bias column)."""
        if self.family == "xgboost" and not self.explains_in_usd:
            return self.encoder.feature_names
        if self.family == BTYD_FAMILY:
            return list(BTYD_REASONS)
        return self.encoder.feature_names + BTYD_REASONS

    @property
    def explains_in_usd(self) -> bool:
        """Whether `contributions` are in USD with BTYD's reasons beside the trees' (a blend, or
        trees with BTYD beyond their support); else on the trees' own scale."""
        return self.family == "blend" or (self.family == "xgboost" and self.support_limits is not None)

    def beyond_support(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether each row is above any of `support_limits` (none without them)."""
        beyond = np.zeros(len(frame), dtype=bool)
        for column, limit in (self.support_limits or {}).items():
            beyond |= frame[column].to_numpy(float) > limit
        return beyond

    def xgboost_weights(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's weight of XGBoost: `blend_weight`, 0 beyond the support."""
        return np.where(self.beyond_support(frame), 0.0, self.blend_weight)

    def row_calibration(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's calibration: `calibration`, 1 beyond the support (BTYD alone, at its own level)."""
        return np.where(self.beyond_support(frame), 1.0, self.calibration)

    def with_btyd(self, frame: pd.DataFrame, fits: dict | None = None) -> pd.DataFrame:
        """`frame` with the BTYD columns the model reads (over its label window, with the carry
        to its horizon), fitted on `frame` itself unless it has them or `fits` are given."""
        if set(BTYD_FEATURES + [BTYD_CARRY]) <= set(frame.columns):
            return frame
        if set(BTYD_FEATURES) <= set(frame.columns) and self.label_days == self.horizon_days:
            return frame.assign(**{BTYD_CARRY: 1.0})
        extra = btyd_features(frame, self.label_days, fits=fits, carry_to_days=self.horizon_days)
        return pd.concat([frame.drop(columns=BTYD_FEATURES + [BTYD_CARRY], errors="ignore"), extra], axis=1)

    @staticmethod
    def carry(frame: pd.DataFrame) -> np.ndarray:
        return frame[BTYD_CARRY].to_numpy(float)

    def season(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's seasonal multiplier by the calendar month of its as-of date (1 without an index)."""
        if self.season_by_month is None:
            return np.ones(len(frame))
        require_columns(frame, ["as_of_date"], "seasonal calibration")
        months = pd.to_datetime(frame["as_of_date"]).dt.month.to_numpy() - 1
        return np.asarray(self.season_by_month, dtype=float)[months]

    def dmatrix(self, frame: pd.DataFrame, with_margin: bool = True) -> xgb.DMatrix:
        """The model's input; BTYD features are fitted on `frame` when it lacks them. The BTYD
        base margin belongs to the revenue model only (`with_margin=False` for the churn head)."""
        frame = self.with_btyd(frame)
        margin = base_margin(frame, self.objective) if with_margin else None
        return xgb.DMatrix(self.encoder.transform(frame), base_margin=margin)

    def dmatrices(self, frame: pd.DataFrame) -> tuple[xgb.DMatrix, xgb.DMatrix]:
        """(revenue input, churn input) from one encoding of `frame` (BTYD columns present)."""
        x = self.encoder.transform(frame)
        return xgb.DMatrix(x, base_margin=base_margin(frame, self.objective)), xgb.DMatrix(x)

    def _xgboost_revenue(self, data: xgb.DMatrix) -> np.ndarray:
        raw = self.regressor.predict(data)
        if self.objective == LOG_OBJECTIVE:
            raw = np.expm1(raw) * self.scale
        return raw.astype(np.float64)

    def _inverse_link(self, margin: np.ndarray) -> np.ndarray:
        if self.objective == LOG_OBJECTIVE:
            return np.expm1(margin.astype(np.float64)) * self.scale
        if self.objective.removeprefix(BTYD_MARGIN_PREFIX) == "reg:tweedie":
            return np.exp(margin.astype(np.float64))
        return margin.astype(np.float64)

    def predict_revenue(self, frame: pd.DataFrame, data: xgb.DMatrix | None = None) -> np.ndarray:
        """Expected net revenue over the horizon for the rows of `frame`; `data`, when given, is
        its `dmatrix(frame)` (not built twice)."""
        frame = self.with_btyd(frame)
        weights = self.xgboost_weights(frame)
        revenue = np.zeros(len(frame))
        if self.blend_weight > 0:
            revenue += weights * self._xgboost_revenue(data if data is not None else self.dmatrix(frame))
        if (weights < 1).any():
            revenue += (1.0 - weights) * btyd_revenue(frame)
        return np.maximum(revenue * self.carry(frame) * self.season(frame) * self.row_calibration(frame), 0.0)

    def predict_churn(self, frame: pd.DataFrame | xgb.DMatrix) -> np.ndarray:
        """Probability of no purchase in the 180 days after the as-of date; `frame` or its
        `dmatrix(frame, with_margin=False)`."""
        data = frame if isinstance(frame, xgb.DMatrix) else self.dmatrix(frame, with_margin=False)
        return self.churn.predict(data).astype(np.float64)

    def contributions(self, frame: pd.DataFrame, data: xgb.DMatrix | None = None, approx: bool = False) -> np.ndarray:
        """Each row's prediction split over `reason_names` (last column: the reference value).

        XGBoost family: XGBoost's own SHAP values on its output scale, exact TreeSHAP or, with
        `approx`, its approximate (Saabas) ones; both add up to the raw
        prediction. BTYD family: the exact Shapley values of the product P(alive) x purchases if
        alive x order value, each factor moved from its training mean to the customer's value (in
        USD). Blend: both parts in USD (XGBoost's shared out in proportion to its SHAP values on
        its own scale), weighted and calibrated, so the row sums to the prediction (so too for
        trees with BTYD beyond their support: a row's weight is 1 or 0); a carried
        model's (ADR 0015) are scaled by each row's carry, in USD at the horizon, and a seasonal
        one's (ADR 0020) by its as-of month's index."""
        frame = self.with_btyd(frame)
        carry = (self.carry(frame) * self.season(frame))[:, None]
        if not self.explains_in_usd and self.family == "xgboost":
            # On the model's own scale (of the label window when carried): a row's factor would
            # not change the order of its reasons.
            return self._shap(frame, data, approx)
        # The BTYD factors in float64: the Shapley values must add up to the prediction.
        factors = btyd_factors(frame)
        reference = np.asarray(self.btyd_reference if self.btyd_reference is not None else factors.mean(axis=0))
        weights = self.xgboost_weights(frame)[:, None]
        parts = product_shapley(factors, reference) * (1.0 - weights)
        if self.explains_in_usd:
            data = data if data is not None else self.dmatrix(frame)
            shap = self._shap(frame, data, approx).astype(np.float64)
            at_reference = self._inverse_link(shap[:, -1])
            moved = shap[:, :-1].sum(axis=1)
            share = np.divide(
                self._xgboost_revenue(data) - at_reference, moved, out=np.zeros(len(moved)), where=moved != 0
            )
            usd = np.column_stack([shap[:, :-1] * share[:, None], at_reference]) * weights
            parts = np.column_stack([usd[:, :-1], parts[:, :-1], usd[:, -1] + parts[:, -1]])
        return parts * carry * self.row_calibration(frame)[:, None]

    def _shap(self, frame: pd.DataFrame, data: xgb.DMatrix | None, approx: bool) -> np.ndarray:
        """The regressor's SHAP values (last column: the expected value): exact ones by decision
        pattern (`treeshap`, the same numbers about ten times faster) where the trees allow it,
        else XGBoost's exact TreeSHAP; with `approx`, XGBoost's approximate ones."""
        if approx or not treeshap.supports(self.regressor):
            data = data if data is not None else self.dmatrix(frame)
            return self.regressor.predict(data, pred_contribs=True, approx_contribs=approx)
        return treeshap.contributions(self.regressor, self.encoder.transform(frame), base_margin(frame, self.objective))

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.regressor is not None:
            self.regressor.save_model(directory / "regressor.json")
        self.churn.save_model(directory / "churn.json")
        meta = {
            "encoder": self.encoder.to_dict(),
            "objective": self.objective,
            "scale": self.scale,
            "horizon_days": self.horizon_days,
            "family": self.family,
            "blend_weight": self.blend_weight,
            "calibration": self.calibration,
            "btyd_reference": self.btyd_reference,
            "btyd_fits": self.btyd_fits,
            "label_horizon_days": self.label_horizon_days,
            "season_by_month": self.season_by_month,
            "support_limits": self.support_limits,
        }
        (directory / "clv_model.json").write_text(json.dumps(meta, indent=2))
        if self.drift_baseline is not None:
            (directory / "drift_baseline.json").write_text(json.dumps(self.drift_baseline))
        return directory

    @classmethod
    def load(cls, directory: Path) -> ClvModel:
        directory = Path(directory)
        meta = json.loads((directory / "clv_model.json").read_text())
        regressor, churn = None, xgb.Booster()
        if (directory / "regressor.json").exists():
            regressor = xgb.Booster()
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
            float(meta.get("blend_weight", 1.0)),  # models saved before families were XGBoost
            float(meta.get("calibration", 1.0)),
            meta.get("btyd_reference"),
            meta.get("btyd_fits"),
            meta.get("label_horizon_days"),
            meta.get("season_by_month"),
            meta.get("support_limits"),
        )
