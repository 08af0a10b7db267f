"""The model as it is saved, registered and served: the feature encoder, the XGBoost revenue
and churn heads (`ClvModel`), the BTYD features both heads read, and the versioned config.

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
    "btyd_features",
    "base_margin",
]

RFM_COLUMNS = ["frequency", "recency_days", "tenure_days", "days_since_last_purchase", "monetary_value_usd"]
LOG_OBJECTIVE = "log1p:squarederror"
# Boost from the BG/NBD + Gamma-Gamma prediction: its log is the base margin of a Tweedie model,
# so the trees learn what the BTYD model misses (channels, web activity) instead of re-learning it.
BTYD_MARGIN_PREFIX = "btyd_margin:"


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
    require_columns(frame, RFM_COLUMNS + ["customer_id", "as_of_date", "avg_purchase_value_usd"], "BTYD inputs")
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
    require_columns(frame, BTYD_FEATURES, "BTYD margin")
    revenue = frame["btyd_expected_purchases"].to_numpy(float) * frame["btyd_expected_order_value_usd"].to_numpy(float)
    return np.log(np.maximum(revenue, 1e-3))
