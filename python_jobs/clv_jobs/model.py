"""The model as it is saved, registered and served: the feature encoder, the revenue model of
one family (XGBoost, BG/NBD + Gamma-Gamma, or a blend of the two; ADR 0014), the XGBoost churn
head (`ClvModel`), the BTYD features both heads read, and the versioned config.

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

from clv_jobs import btyd
from clv_jobs.features import FeatureSpec

__all__ = [
    "load_model_config",
    "order_examples",
    "require_columns",
    "Encoder",
    "ClvModel",
    "RFM_COLUMNS",
    "LOG_OBJECTIVE",
    "BTYD_MARGIN_PREFIX",
    "BTYD_FEATURES",
    "BTYD_REASONS",
    "BTYD_FAMILY",
    "btyd_features",
    "fit_btyd",
    "btyd_revenue",
    "btyd_factors",
    "product_shapley",
    "base_margin",
]

RFM_COLUMNS = ["frequency", "recency_days", "tenure_days", "days_since_last_purchase", "monetary_value_usd"]
LOG_OBJECTIVE = "log1p:squarederror"
# Boost from the BG/NBD + Gamma-Gamma prediction: its log is the base margin of a Tweedie model,
# so the trees learn what the BTYD model misses (channels, web activity) instead of re-learning it.
BTYD_MARGIN_PREFIX = "btyd_margin:"
# The objective of a model whose revenue is BG/NBD + Gamma-Gamma alone (no XGBoost regressor).
BTYD_FAMILY = "bgnbd_gamma_gamma"


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


def require_columns(frame: pd.DataFrame, columns: list[str], where: str) -> None:
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
    was fitted on the validation as-of date so the total predicted matches the realized one.
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

    @property
    def family(self) -> str:
        if self.blend_weight >= 1.0:
            return "xgboost"
        return BTYD_FAMILY if self.blend_weight <= 0.0 else "blend"

    @property
    def reason_names(self) -> list[str]:
        """The names of `contributions`' columns (before the bias column)."""
        if self.family == "xgboost":
            return self.encoder.feature_names
        if self.family == BTYD_FAMILY:
            return list(BTYD_REASONS)
        return self.encoder.feature_names + BTYD_REASONS

    @staticmethod
    def with_btyd(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
        if set(BTYD_FEATURES) <= set(frame.columns):
            return frame
        return pd.concat([frame, btyd_features(frame, horizon_days)], axis=1)

    def dmatrix(self, frame: pd.DataFrame, with_margin: bool = True) -> xgb.DMatrix:
        """The model's input; BTYD features are fitted on `frame` when it lacks them. The BTYD
        base margin belongs to the revenue model only (`with_margin=False` for the churn head)."""
        frame = self.with_btyd(frame, self.horizon_days)
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
        frame = self.with_btyd(frame, self.horizon_days)
        revenue = np.zeros(len(frame))
        if self.blend_weight > 0:
            revenue += self.blend_weight * self._xgboost_revenue(data if data is not None else self.dmatrix(frame))
        if self.blend_weight < 1:
            revenue += (1.0 - self.blend_weight) * btyd_revenue(frame)
        return np.maximum(revenue * self.calibration, 0.0)

    def predict_churn(self, frame: pd.DataFrame | xgb.DMatrix) -> np.ndarray:
        """Probability of no purchase in the 180 days after the as-of date; `frame` or its
        `dmatrix(frame, with_margin=False)`."""
        data = frame if isinstance(frame, xgb.DMatrix) else self.dmatrix(frame, with_margin=False)
        return self.churn.predict(data).astype(np.float64)

    def contributions(self, frame: pd.DataFrame, data: xgb.DMatrix | None = None, approx: bool = False) -> np.ndarray:
        """Each row's prediction split over `reason_names` (last column: the reference value).

        XGBoost family: XGBoost's own SHAP values on its output scale, exact TreeSHAP or, with
        `approx`, its approximate (Saabas) ones, about ten times faster; both add up to the raw
        prediction. BTYD family: the exact Shapley values of the product P(alive) x purchases if
        alive x order value, each factor moved from its training mean to the customer's value (in
        USD). Blend: both parts in USD (XGBoost's shared out in proportion to its SHAP values on
        its own scale), weighted and calibrated, so the row sums to the prediction."""
        frame = self.with_btyd(frame, self.horizon_days)
        if self.family == "xgboost":
            data = data if data is not None else self.dmatrix(frame)
            return self.regressor.predict(data, pred_contribs=True, approx_contribs=approx)
        # The BTYD factors in float64: the Shapley values must add up to the prediction.
        factors = btyd_factors(frame)
        reference = np.asarray(self.btyd_reference if self.btyd_reference is not None else factors.mean(axis=0))
        parts = product_shapley(factors, reference) * (1.0 - self.blend_weight)
        if self.family == "blend":
            data = data if data is not None else self.dmatrix(frame)
            shap = self.regressor.predict(data, pred_contribs=True, approx_contribs=approx).astype(np.float64)
            at_reference = self._inverse_link(shap[:, -1])
            moved = shap[:, :-1].sum(axis=1)
            share = np.divide(
                self._xgboost_revenue(data) - at_reference, moved, out=np.zeros(len(moved)), where=moved != 0
            )
            usd = np.column_stack([shap[:, :-1] * share[:, None], at_reference]) * self.blend_weight
            parts = np.column_stack([usd[:, :-1], parts[:, :-1], usd[:, -1] + parts[:, -1]])
        return parts * self.calibration

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
        )


BTYD_FEATURES = ["btyd_p_alive", "btyd_expected_purchases", "btyd_expected_order_value_usd"]


BTYD_MAX_FIT_ROWS = 100_000


def btyd_features(
    frame: pd.DataFrame, horizon_days: int, max_fit_rows: int = BTYD_MAX_FIT_ROWS, fits: dict | None = None
) -> pd.DataFrame:
    """BG/NBD + Gamma-Gamma fitted on each as-of date's own rows (time in weeks): P(alive),
    expected purchases over the horizon and expected order value, per row.

    Unsupervised on history: only features (facts on or before the as-of date) go in, so these
    are as point-in-time as the features themselves. Every date's fit starts from the same point
    and does not depend on row order (the fits sum over sorted distinct values), so training and
    scoring compute bit-identical values for the same customers: scoring reads its rows in no
    fixed order. A date with more than `max_fit_rows` rows is fitted on a seeded sample of that
    many, drawn in customer-id order (seven parameters: the estimates barely move, the time is
    bounded); every row is scored. `fits` (from `fit_btyd`): apply these parameters instead of
    fitting, as a served model does for a handful of customers.
    """
    require_columns(frame, RFM_COLUMNS + ["customer_id", "as_of_date", "avg_purchase_value_usd"], "BTYD inputs")
    out = pd.DataFrame(index=frame.index, columns=BTYD_FEATURES, dtype=float)
    for _, idx in sorted(frame.groupby("as_of_date").indices.items()):
        part = frame.iloc[idx]
        bg, gg, mean_spend = fits_from_dict(fits) if fits is not None else _fit_btyd(part, max_fit_rows)
        x = part["frequency"].to_numpy(float)
        t_x = part["recency_days"].to_numpy(float) / 7
        t = part["tenure_days"].to_numpy(float) / 7
        if gg is not None:
            spend = gg.expected_order_value(x, part["monetary_value_usd"].to_numpy(float))
        else:
            spend = np.full(len(part), mean_spend)
        out.iloc[idx] = np.column_stack(
            [bg.p_alive(x, t_x, t), bg.expected_purchases(horizon_days / 7, x, t_x, t), spend]
        )
    return out.astype(float)


def _fit_btyd(part: pd.DataFrame, max_fit_rows: int):
    """(BG/NBD fit, Gamma-Gamma fit or None, mean order value) on one as-of date's rows."""
    x = part["frequency"].to_numpy(float)
    fit = slice(None)
    if len(part) > max_fit_rows:
        by_customer = np.argsort(part["customer_id"].astype(str).to_numpy(), kind="stable")
        fit = by_customer[np.random.default_rng(0).choice(len(part), max_fit_rows, replace=False)]
    t_x = part["recency_days"].to_numpy(float) / 7
    t = part["tenure_days"].to_numpy(float) / 7
    bg = btyd.fit_bg_nbd(x[fit], t_x[fit], t[fit])
    # sorted first, so the mean does not depend on row order either
    mean_spend = float(np.nanmean(np.sort(part["avg_purchase_value_usd"].to_numpy(float))))
    try:
        gg = btyd.fit_gamma_gamma(x[fit], part["monetary_value_usd"].to_numpy(float)[fit])
    except ValueError:  # no repeat buyers yet at this date
        gg = None
    return bg, gg, mean_spend


def fit_btyd(frame: pd.DataFrame, max_fit_rows: int = BTYD_MAX_FIT_ROWS) -> dict:
    """The BTYD parameters fitted on the newest as-of date of `frame`, as plain numbers."""
    newest = frame[frame["as_of_date"] == frame["as_of_date"].max()]
    bg, gg, mean_spend = _fit_btyd(newest, max_fit_rows)
    return {
        "bg_nbd": [bg.r, bg.alpha, bg.a, bg.b],
        "gamma_gamma": None if gg is None else [gg.p, gg.q, gg.gamma],
        "mean_order_value_usd": mean_spend,
        "as_of_date": f"{pd.Timestamp(newest['as_of_date'].iloc[0]):%Y-%m-%d}",
    }


def fits_from_dict(fits: dict):
    bg = btyd.BetaGeoFit(*fits["bg_nbd"], log_likelihood=float("nan"))
    gg = None if fits["gamma_gamma"] is None else btyd.GammaGammaFit(*fits["gamma_gamma"], log_likelihood=float("nan"))
    return bg, gg, float(fits["mean_order_value_usd"])


# The BTYD revenue as a product of three factors; their Shapley values are a BTYD model's reasons.
BTYD_REASONS = ["btyd_p_alive", "btyd_purchases_if_alive", "btyd_expected_order_value_usd"]


def btyd_revenue(frame: pd.DataFrame) -> np.ndarray:
    """BG/NBD expected purchases x Gamma-Gamma expected order value (the BTYD columns)."""
    require_columns(frame, BTYD_FEATURES, "BTYD revenue")
    purchases = frame["btyd_expected_purchases"].to_numpy(float)
    return np.maximum(purchases * frame["btyd_expected_order_value_usd"].to_numpy(float), 0.0)


def btyd_factors(frame: pd.DataFrame) -> np.ndarray:
    """(P(alive), expected purchases if alive, expected order value) per row: in BG/NBD the
    expected purchases are P(alive) times those of an alive customer, so the product of the three
    columns is `btyd_revenue`."""
    require_columns(frame, BTYD_FEATURES, "BTYD factors")
    alive = frame["btyd_p_alive"].to_numpy(float)
    purchases = frame["btyd_expected_purchases"].to_numpy(float)
    if_alive = np.divide(purchases, alive, out=np.zeros(len(frame)), where=alive > 0)
    return np.column_stack([alive, if_alive, frame["btyd_expected_order_value_usd"].to_numpy(float)])


def product_shapley(factors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Exact Shapley values of f = the product of the columns of `factors`, each player moving its
    factor from `reference` to the row's value; the last column is f(reference). Rows sum to f."""
    from itertools import combinations
    from math import factorial

    n, k = factors.shape
    values = np.zeros((n, k + 1))
    values[:, -1] = np.prod(reference)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        for size in range(k):
            weight = factorial(size) * factorial(k - size - 1) / factorial(k)
            for chosen in combinations(others, size):
                moved = np.ones(n)
                for j in others:
                    moved = moved * (factors[:, j] if j in chosen else reference[j])
                values[:, i] += weight * moved * (factors[:, i] - reference[i])
    return values


def base_margin(frame: pd.DataFrame, objective: str) -> np.ndarray | None:
    """Log of the BTYD revenue prediction for `btyd_margin:` objectives, else None."""
    if not objective.startswith(BTYD_MARGIN_PREFIX):
        return None
    require_columns(frame, BTYD_FEATURES, "BTYD margin")
    revenue = frame["btyd_expected_purchases"].to_numpy(float) * frame["btyd_expected_order_value_usd"].to_numpy(float)
    return np.log(np.maximum(revenue, 1e-3))
