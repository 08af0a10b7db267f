"""Monitoring (DESIGN §7): drift of features and predictions against the training baseline, the
realized backtest of scores whose horizon has matured, and the retrain decision.

The baseline is taken when the model is trained (`drift_baseline`) and saved with it, so the
monitor compares what a model sees today with what that same model was fitted on:
- numeric columns: ten quantile bins of the training values (ties merge bins) plus a null bin,
  the share of training rows in each, and 1,001 quantiles of the non-null values, which stand
  in for the training sample in the KS statistic (error at most ~0.001);
- categorical columns: the share of each training category, plus "other" and null.
Pure functions; `jobs.run_monitor` does the reading and the lake writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clv_jobs import evaluate

__all__ = [
    "PREDICTIONS",
    "drift_baseline",
    "drift_table",
    "drift_status",
    "backtest_metrics",
    "RetrainDecision",
    "retrain_decision",
]

# Score columns monitored like features: (column in the scores, model method that predicts it).
PREDICTIONS = {"predicted_clv_12m": "predict_revenue", "churn_probability": "predict_churn"}
KS_QUANTILES = 1001
OTHER = "__other__"


def _numeric_baseline(values: pd.Series, bins: int) -> dict:
    v = values.astype("float64").to_numpy(na_value=np.nan)
    edges = evaluate.quantile_edges(v, bins)
    present = v[~np.isnan(v)]
    quantiles = np.quantile(present, np.linspace(0, 1, KS_QUANTILES)) if present.size else np.empty(0)
    return {
        "kind": "numeric",
        "rows": int(v.size),
        "edges": edges.tolist(),
        "shares": evaluate.bin_shares(v, edges).tolist(),
        "quantiles": quantiles.tolist(),
    }


def _categorical_baseline(values: pd.Series) -> dict:
    shares = values.astype("string").value_counts(normalize=True, dropna=False)
    categories = sorted(str(k) for k in shares.index if not pd.isna(k))
    return {
        "kind": "categorical",
        "rows": int(len(values)),
        "categories": categories,
        "shares": _category_shares(values, categories).tolist(),
    }


def _category_shares(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Shares of each known category, then every unseen category together, then nulls."""
    s = values.astype("string")
    n = max(len(s), 1)
    counts = s.value_counts(dropna=True)
    known = [int(counts.get(c, 0)) for c in categories]
    other = int(counts.sum()) - sum(known)
    return np.array([*known, other, int(s.isna().sum())], dtype=float) / n


def drift_baseline(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str], predictions: dict[str, np.ndarray], bins: int = 10
) -> dict:
    """The training distribution of every monitored column (see the module docstring)."""
    columns: dict[str, dict] = {}
    for name in numeric:
        columns[name] = _numeric_baseline(frame[name], bins)
    for name in categorical:
        columns[name] = _categorical_baseline(frame[name])
    for name, values in predictions.items():
        columns[name] = {**_numeric_baseline(pd.Series(values), bins), "kind": "prediction"}
    return {"bins": bins, "columns": columns}


def drift_status(psi: float, warn: float, alert: float) -> str:
    return "alert" if psi >= alert else "warn" if psi >= warn else "ok"


def drift_table(baseline: dict, current: pd.DataFrame, warn: float = 0.1, alert: float = 0.25) -> pd.DataFrame:
    """One row per monitored column: PSI, KS (numeric only), status, null shares and row counts.
    Fails naming the column when `current` lacks one the baseline monitors."""
    missing = [name for name in baseline["columns"] if name not in current.columns]
    if missing:
        raise ValueError(f"drift: column(s) {missing} of the training baseline are not in the current data")
    rows = []
    for name, ref in baseline["columns"].items():
        values = current[name]
        if ref["kind"] == "categorical":
            shares = _category_shares(values, ref["categories"])
            ks = np.nan
        else:
            v = values.astype("float64").to_numpy(na_value=np.nan)
            shares = evaluate.bin_shares(v, np.asarray(ref["edges"], dtype=float))
            present = v[~np.isnan(v)]
            ks = evaluate.ks_statistic(ref["quantiles"], present) if present.size and ref["quantiles"] else np.nan
        psi = evaluate.psi_from_shares(ref["shares"], shares)
        rows.append(
            {
                "feature_name": name,
                "feature_kind": ref["kind"],
                "psi": psi,
                "ks_statistic": ks,
                "status": drift_status(psi, warn, alert),
                "baseline_rows": ref["rows"],
                "current_rows": len(values),
                "baseline_null_share": float(ref["shares"][-1]),
                "current_null_share": float(shares[-1]),
            }
        )
    return pd.DataFrame(rows)


def backtest_metrics(predicted, actual) -> dict[str, float]:
    """The realized scores of one scored as-of date against what customers then spent."""
    metrics = evaluate.regression_metrics(actual, predicted)
    return {
        "customers": int(len(actual)),
        "rmse": metrics["rmse"],
        "mae": metrics["mae"],
        "normalized_gini": metrics["normalized_gini"],
        "top10_capture": metrics["top10_capture"],
        "bias": metrics["bias"],
        "predicted_revenue_usd": float(np.sum(predicted)),
        "actual_revenue_usd": float(np.sum(actual)),
    }


@dataclass
class RetrainDecision:
    retrain: bool
    reasons: list[str]


def retrain_decision(drift: pd.DataFrame, backtests: pd.DataFrame, config: dict) -> RetrainDecision:
    """Retrain when a prediction drifts to alert, when too many features do, or when a matured
    backtest ranks worse than the model did on its own test beyond the tolerance or below the
    Gini gate. `config` is the `[monitor]` table of conf/model.toml plus the Gini gate."""
    reasons = []
    alerts = drift[drift["status"] == "alert"]
    for row in alerts[alerts["feature_kind"] == "prediction"].itertuples():
        reasons.append(f"prediction {row.feature_name} drifted: PSI {row.psi:.3f}")
    features = drift[drift["feature_kind"] != "prediction"]
    share = float((features["status"] == "alert").mean()) if len(features) else 0.0
    if share > config["max_share_features_alert"]:
        names = ", ".join(features.loc[features["status"] == "alert", "feature_name"])
        reasons.append(f"{share:.0%} of features in alert (limit {config['max_share_features_alert']:.0%}): {names}")
    for row in backtests.itertuples():
        if row.normalized_gini < config["min_normalized_gini"]:
            reasons.append(
                f"scores of {row.scored_as_of_date}: realized normalized Gini {row.normalized_gini:.3f} "
                f"below the gate {config['min_normalized_gini']}"
            )
        elif not np.isnan(row.test_normalized_gini) and (
            row.normalized_gini < row.test_normalized_gini - config["max_gini_drop"]
        ):
            reasons.append(
                f"scores of {row.scored_as_of_date}: realized normalized Gini {row.normalized_gini:.3f} is more "
                f"than {config['max_gini_drop']} below the model's test Gini {row.test_normalized_gini:.3f}"
            )
    return RetrainDecision(bool(reasons), reasons)
