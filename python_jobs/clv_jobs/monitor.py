"""Monitoring (DESIGN §7): drift of features and predictions, the 30-day proxy and KPI cohorts,
the realized backtest of scores whose horizon has matured, the retrain decision and the alerts.

Drift has two references. `training`: the newest population the model learned from (its latest
as-of date), taken when the model is trained (`drift_baseline`) and saved with it. A retrain on
newer matured data moves that reference forward, so the alert it raises can clear.
`previous_scoring`: the previous scored date, month over month. Each baseline holds:
- numeric columns: ten quantile bins of the training values (ties merge bins) plus a null bin,
  the share of training rows in each, and 1,001 quantiles of the non-null values, which stand
  in for the training sample in the KS statistic (error at most ~0.001);
- categorical columns: the share of each training category, plus "other" and null.
Pure functions; `stages.monitor` does the reading and the lake writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clv_jobs import evaluate
from clv_jobs.alerts import Alert

__all__ = [
    "PREDICTIONS",
    "drift_baseline",
    "drift_table",
    "drift_status",
    "backtest_metrics",
    "RetrainDecision",
    "retrain_decision",
    "proxy_metrics",
    "kpi_cohorts",
    "monitor_alerts",
]

# Score columns monitored like features: (column in the scores, model method that predicts it).
PREDICTIONS = {"predicted_clv": "predict_revenue", "churn_probability": "predict_churn"}
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
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    predictions: dict[str, np.ndarray],
    bins: int = 10,
    as_of_date: str | None = None,
) -> dict:
    """The reference distribution of every monitored column (see the module docstring), and the
    as-of date of that population."""
    columns: dict[str, dict] = {}
    for name in numeric:
        columns[name] = _numeric_baseline(frame[name], bins)
    for name in categorical:
        columns[name] = _categorical_baseline(frame[name])
    for name, values in predictions.items():
        columns[name] = {**_numeric_baseline(pd.Series(values), bins), "kind": "prediction"}
    return {"bins": bins, "columns": columns, "as_of_date": as_of_date}


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


def retrain_decision(
    drift: pd.DataFrame, backtests: pd.DataFrame, config: dict, proxy: pd.DataFrame | None = None
) -> RetrainDecision:
    """Retrain when a prediction drifts to alert against the training reference, when too many
    features do, when the 30-day proxy drops beyond its limit, or when a matured backtest ranks
    worse than the model did on its own test beyond the tolerance or below the Gini gate.
    `config` is the `[monitor]` table of conf/model.toml plus the Gini gate."""
    reasons = []
    if "reference" in drift.columns:
        drift = drift[drift["reference"] == "training"]
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
    if proxy is not None:
        for row in proxy[proxy["is_triggered"]].itertuples():
            reasons.append(
                f"30-day proxy of the scores at {row.scored_as_of_date} dropped {row.relative_drop:.0%} "
                f"below the model's test date (limit {config['max_proxy_drop']:.0%})"
            )
    return RetrainDecision(bool(reasons), reasons)


def proxy_metrics(predicted, realized) -> dict[str, float]:
    """The 30-day proxy: Spearman and Pearson correlation of predicted CLV with realized spend."""
    p, r = np.asarray(predicted, float), np.asarray(realized, float)
    constant = len(p) < 3 or np.ptp(p) == 0 or np.ptp(r) == 0
    return {
        "customers": int(len(p)),
        "spearman": float("nan") if constant else evaluate.spearman(r, p),
        "pearson": float("nan") if constant else float(np.corrcoef(p, r)[0, 1]),
    }


def relative_drop(current: float, reference: float) -> float:
    """(reference - current) / |reference|; NaN without a usable reference."""
    if not np.isfinite(current) or not np.isfinite(reference) or reference == 0:
        return float("nan")
    return float((reference - current) / abs(reference))


def kpi_cohorts(predicted, revenue, purchase_days) -> list[dict]:
    """Realized 30-day KPIs of the top 10 % and the bottom 50 % of predicted CLV: revenue, average
    order value (revenue per purchase day of the buyers) and churn (share with no purchase)."""
    frame = pd.DataFrame(
        {"p": np.asarray(predicted, float), "r": np.asarray(revenue, float), "d": np.asarray(purchase_days, float)}
    )
    rank = frame["p"].rank(pct=True, method="first")
    rows = []
    for cohort, mask in (("top_10pct", rank > 0.9), ("bottom_50pct", rank <= 0.5)):
        part = frame[mask]
        buyers = part[part["d"] > 0]
        rows.append(
            {
                "cohort": cohort,
                "customers": int(len(part)),
                "buyers": int(len(buyers)),
                "realized_revenue_usd": float(part["r"].sum()),
                "realized_aov_usd": float(buyers["r"].sum() / buyers["d"].sum()) if len(buyers) else float("nan"),
                "churn_rate": float(1 - len(buyers) / len(part)) if len(part) else float("nan"),
            }
        )
    return rows


def monitor_alerts(drift: pd.DataFrame, proxy: pd.DataFrame, key_features: list[str], config: dict) -> list[Alert]:
    """The alerting table's monitor rules: medium for a prediction or key feature PSI above
    `psi_alert` and for a proxy drop above `max_proxy_drop`; low for PSI in [psi_warn, psi_alert)."""
    alerts = []
    watched = drift[(drift["feature_kind"] == "prediction") | drift["feature_name"].isin(key_features)]
    for row in watched.itertuples():
        what = "prediction" if row.feature_kind == "prediction" else "key feature"
        against = f"against {row.reference}" + (f" ({row.reference_as_of_date})" if row.reference_as_of_date else "")
        if row.psi > config["psi_alert"]:
            alerts.append(
                Alert(
                    "medium",
                    f"{what.replace(' ', '_')}_psi",
                    f"{what} {row.feature_name} PSI {row.psi:.3f} > {config['psi_alert']} {against}",
                )
            )
        elif row.psi >= config["psi_warn"]:
            alerts.append(
                Alert(
                    "low",
                    f"{what.replace(' ', '_')}_psi",
                    f"{what} {row.feature_name} PSI {row.psi:.3f} in "
                    f"[{config['psi_warn']}, {config['psi_alert']}] {against}",
                )
            )
    for row in proxy[proxy["is_triggered"]].itertuples():
        alerts.append(
            Alert(
                "medium",
                "proxy_drop",
                f"30-day proxy of the scores at {row.scored_as_of_date}: Spearman {row.spearman:.3f} is "
                f"{row.relative_drop:.0%} below the model's test-date {row.reference_spearman:.3f} "
                f"(limit {config['max_proxy_drop']:.0%})",
            )
        )
    return alerts
