"""Evaluation metrics for CLV predictions: pure functions over arrays (DESIGN §7).

Every function takes ``y_true`` (realized revenue over the horizon) and ``y_pred`` (predicted
revenue), both non-negative arrays of one length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "paired_bootstrap",
    "rmse",
    "mae",
    "gini",
    "normalized_gini",
    "lorenz_curve",
    "spearman",
    "top_share_captured",
    "aggregate_bias",
    "decile_table",
    "regression_metrics",
    "metrics_by_slice",
    "disparate_impact_ratio",
    "disparate_impact_p_value",
    "psi",
    "ks_statistic",
]


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-d arrays of one length, got {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("no rows to evaluate")
    return t, p


def rmse(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def _ranked_actual(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Realized values ranked by prediction, highest first. Customers with tied predictions share
    their block's revenue evenly, so a constant prediction ranks no one above anyone."""
    order = np.argsort(-p, kind="stable")
    ranked_p, ranked_t = p[order], t[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked_p)) + 1]
    sizes = np.diff(np.r_[starts, t.size])
    block_means = np.add.reduceat(ranked_t, starts) / sizes
    return np.repeat(block_means, sizes)


def lorenz_curve(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Share of customers (ranked by prediction, highest first) vs share of revenue they hold."""
    t, p = _arrays(y_true, y_pred)
    cumulative = np.cumsum(_ranked_actual(t, p))
    total = cumulative[-1]
    revenue_share = cumulative / total if total > 0 else np.zeros_like(cumulative)
    customer_share = np.arange(1, t.size + 1) / t.size
    return np.r_[0.0, customer_share], np.r_[0.0, revenue_share]


def gini(y_true, y_pred) -> float:
    """Gini of the ranking: twice the area between the Lorenz curve and the diagonal."""
    x, y = lorenz_curve(y_true, y_pred)
    area = np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))
    return float(2 * area - 1)


def normalized_gini(y_true, y_pred) -> float:
    """Gini of the prediction's ranking over the Gini of the perfect ranking: 1 is perfect, 0 random."""
    best = gini(y_true, y_true)
    return float(gini(y_true, y_pred) / best) if best != 0 else 0.0


def paired_bootstrap(y_true, pred_a, pred_b, resamples: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Model A minus model B on RMSE and normalized Gini, with a percentile interval from
    resampling customers (both models on the same resample, so what they share cancels). An
    interval that holds 0 says the test date cannot tell the two apart on that metric.
    One row per metric: difference, low, high."""
    t, a = _arrays(y_true, pred_a)
    b = _arrays(y_true, pred_b)[1]

    def differences(t, a, b) -> tuple[float, float]:
        best = gini(t, t)  # the perfect ranking's Gini normalizes both models: once per sample
        gini_difference = (gini(t, a) - gini(t, b)) / best if best != 0 else 0.0
        return rmse(t, a) - rmse(t, b), gini_difference

    rng = np.random.default_rng(seed)
    draws = {"rmse": [], "normalized_gini": []}
    for _ in range(resamples):
        i = rng.integers(0, t.size, t.size)
        for metric, value in zip(draws, differences(t[i], a[i], b[i]), strict=True):
            draws[metric].append(value)
    tail = (1 - level) / 2 * 100
    observed = dict(zip(draws, differences(t, a, b), strict=True))
    return pd.DataFrame(
        [
            {
                "metric": m,
                "difference": observed[m],
                "low": np.percentile(d, tail),
                "high": np.percentile(d, 100 - tail),
            }
            for m, d in draws.items()
        ]
    )


def spearman(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    if np.all(p == p[0]) or np.all(t == t[0]):
        return 0.0
    return float(stats.spearmanr(t, p).statistic)


def top_share_captured(y_true, y_pred, top: float) -> float:
    """Share of all realized revenue held by the top `top` fraction of customers by prediction."""
    t, p = _arrays(y_true, y_pred)
    k = max(1, int(np.ceil(top * t.size)))
    total = t.sum()
    return float(_ranked_actual(t, p)[:k].sum() / total) if total > 0 else 0.0


def aggregate_bias(y_true, y_pred) -> float:
    """Total predicted over total realized, minus one: +0.1 means 10 % over-prediction."""
    t, p = _arrays(y_true, y_pred)
    return float(p.sum() / t.sum() - 1) if t.sum() > 0 else float("nan")


def decile_table(y_true, y_pred) -> pd.DataFrame:
    """Customers in ten equal groups by prediction (decile 1 = highest): mean predicted vs realized."""
    t, p = _arrays(y_true, y_pred)
    order = np.argsort(-p, kind="stable")
    decile = np.empty(t.size, dtype=int)
    decile[order] = np.arange(t.size) * 10 // t.size + 1
    frame = pd.DataFrame({"decile": decile, "predicted": p, "actual": t})
    table = frame.groupby("decile").agg(
        customers=("actual", "size"),
        mean_predicted=("predicted", "mean"),
        mean_actual=("actual", "mean"),
        actual_revenue=("actual", "sum"),
    )
    table["share_of_revenue"] = table["actual_revenue"] / t.sum() if t.sum() > 0 else 0.0
    return table.reset_index()


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """The headline metrics, in one dict."""
    return {
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "normalized_gini": normalized_gini(y_true, y_pred),
        "spearman": spearman(y_true, y_pred),
        "top10_capture": top_share_captured(y_true, y_pred, 0.10),
        "top20_capture": top_share_captured(y_true, y_pred, 0.20),
        "bias": aggregate_bias(y_true, y_pred),
    }


def metrics_by_slice(y_true, y_pred, slices: pd.Series, min_rows: int = 30) -> pd.DataFrame:
    """`regression_metrics` per value of `slices` (e.g. country); slices under `min_rows` rows are skipped."""
    t, p = _arrays(y_true, y_pred)
    frame = pd.DataFrame({"t": t, "p": p, "slice": np.asarray(slices)})
    rows = []
    for value, group in frame.groupby("slice", sort=True):
        if len(group) < min_rows:
            continue
        rows.append(
            {
                "slice_value": value,
                "rows": len(group),
                "mean_prediction": group["p"].mean(),
                **regression_metrics(group["t"], group["p"]),
            }
        )
    return pd.DataFrame(rows)


def disparate_impact_ratio(y_pred, slices: pd.Series, min_rows: int = 30) -> float:
    """Lowest over highest mean prediction across slices (1 = equal; the 4/5 rule flags < 0.8)."""
    frame = pd.DataFrame({"p": np.asarray(y_pred, dtype=float), "slice": np.asarray(slices)})
    counts = frame.groupby("slice")["p"].agg(["mean", "size"])
    means = counts.loc[counts["size"] >= min_rows, "mean"]
    if len(means) < 2 or means.max() <= 0:
        return 1.0
    return float(means.min() / means.max())


def disparate_impact_p_value(
    y_pred, slices: pd.Series, min_rows: int = 30, permutations: int = 1000, seed: int = 0
) -> float:
    """How often a ratio as low as the observed one arises when the slices are exchangeable
    (labels shuffled over the rows of slices with `min_rows` rows or more): a one-sided
    permutation p-value. Small slices of a heavy-tailed prediction give low ratios by chance; a
    gate that needs this p-value below alpha fails only a model with evidence of a gap."""
    frame = pd.DataFrame({"p": np.asarray(y_pred, dtype=float), "slice": np.asarray(slices)})
    sizes = frame["slice"].value_counts()
    frame = frame[frame["slice"].isin(sizes[sizes >= min_rows].index)]
    if frame["slice"].nunique() < 2:
        return 1.0
    codes, _ = pd.factorize(frame["slice"])
    values, counts = frame["p"].to_numpy(), np.bincount(codes)

    def ratio(labels: np.ndarray) -> float:
        means = np.bincount(labels, weights=values, minlength=len(counts)) / counts
        return means.min() / means.max() if means.max() > 0 else 1.0

    observed = ratio(codes)
    rng = np.random.default_rng(seed)
    shuffled = np.array([ratio(rng.permutation(codes)) for _ in range(permutations)])
    return float((1 + np.sum(shuffled <= observed + 1e-12)) / (permutations + 1))


def quantile_edges(baseline, bins: int = 10) -> np.ndarray:
    """Interior edges of `bins` quantile bins of `baseline`'s non-null values (ties merge bins)."""
    b = np.asarray(baseline, dtype=float)
    b = b[~np.isnan(b)]
    if b.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(b, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_shares(values, edges: np.ndarray) -> np.ndarray:
    """Share of `values` in each bin (x <= edge goes left), then a last bin for nulls."""
    v = np.asarray(values, dtype=float)
    null = np.isnan(v)
    counts = np.bincount(np.searchsorted(edges, v[~null], side="left"), minlength=len(edges) + 1)
    return np.append(counts, null.sum()) / max(v.size, 1)


def psi_from_shares(baseline_shares, current_shares, epsilon: float = 1e-4) -> float:
    """sum((c - b) * ln(c / b)) over bins, shares floored at `epsilon` so empty bins stay finite."""
    b = np.maximum(np.asarray(baseline_shares, dtype=float), epsilon)
    c = np.maximum(np.asarray(current_shares, dtype=float), epsilon)
    return float(np.sum((c - b) * np.log(c / b)))


def psi(baseline, current, bins: int = 10, epsilon: float = 1e-4) -> float:
    """Population stability index of `current` against quantile bins of `baseline` (nulls are
    a bin of their own)."""
    edges = quantile_edges(baseline, bins)
    return psi_from_shares(bin_shares(baseline, edges), bin_shares(current, edges), epsilon)


def ks_statistic(baseline, current) -> float:
    """Two-sample Kolmogorov-Smirnov statistic."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(current, dtype=float)
    return float(stats.ks_2samp(b[~np.isnan(b)], c[~np.isnan(c)]).statistic)
