"""Batch scoring: every customer with features at an as-of date, scored by the champion.

Pure functions over a features frame; `stages.score` does the reading and the lake write.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from clv_jobs import ml_contracts
from clv_jobs.model import ClvModel

__all__ = [
    "load_tiers",
    "assign_tiers",
    "rank_population",
    "top_reasons",
    "score_frame",
    "SCORE_SCHEMA",
    "REASON_METHODS",
    "check_reasons",
]

REASON_METHODS = ("shap", "approx")


def check_reasons(reasons: str) -> None:
    """Fail on an unknown reason method (before a SageMaker job is paid for, too)."""
    if reasons not in REASON_METHODS:
        raise ValueError(f"reasons: {reasons!r} is not one of {REASON_METHODS}")


SCORE_SCHEMA = ml_contracts.schema("scores")


def load_tiers(seed_path: Path) -> list[tuple[str, float]]:
    """(tier, minimum percentile) from the dbt seed, highest threshold first."""
    with open(seed_path) as fh:
        rows = [(row["value_tier"], float(row["min_percentile"])) for row in csv.DictReader(fh)]
    if not rows or min(t for _, t in rows) != 0.0:
        raise ValueError(f"{seed_path}: tiers must cover every customer (one tier with min_percentile 0)")
    return sorted(rows, key=lambda row: -row[1])


def assign_tiers(percentile: np.ndarray, tiers: list[tuple[str, float]]) -> np.ndarray:
    thresholds = np.array([t for _, t in tiers])
    names = np.array([n for n, _ in tiers])
    # first tier (highest threshold first) whose minimum the percentile reaches
    return names[np.argmax(percentile[:, None] >= thresholds[None, :], axis=1)]


def percentiles(predicted: np.ndarray) -> np.ndarray:
    """Each customer's percentile of predicted CLV in the scored population (ties share the top)."""
    return pd.Series(predicted).rank(pct=True, method="max").to_numpy()


def rank_population(table: pa.Table, tiers: list[tuple[str, float]]) -> pa.Table:
    """`table` (scores) with percentile and tier recomputed over all its rows: shards scored
    apart (SageMaker across instances) become one population."""
    percentile = percentiles(table.column("predicted_clv").to_numpy())
    table = table.set_column(table.schema.get_field_index("clv_percentile"), "clv_percentile", pa.array(percentile))
    return table.set_column(
        table.schema.get_field_index("value_tier"), "value_tier", pa.array(assign_tiers(percentile, tiers))
    )


def top_reasons(contributions: np.ndarray, feature_names: list[str], k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the `k` features (one-hot columns summed back to their categorical) with the
    largest absolute contribution, and those contributions (model output scale)."""
    groups = [name.split("=", 1)[0] for name in feature_names]
    unique = list(dict.fromkeys(groups))
    membership = np.zeros((len(feature_names), len(unique)), dtype=np.float32)
    membership[np.arange(len(feature_names)), [unique.index(g) for g in groups]] = 1.0
    grouped = contributions[:, :-1] @ membership  # drop the bias column
    top = np.argsort(-np.abs(grouped), axis=1, kind="stable")[:, :k]
    names = np.array(unique)[top]
    impacts = np.take_along_axis(grouped, top, axis=1)
    return names, impacts


def score_frame(
    model: ClvModel,
    version: str,
    features: pd.DataFrame,
    tiers: list[tuple[str, float]],
    scored_at,
    timings: dict[str, float] | None = None,
    reasons: str = "shap",
) -> pa.Table:
    """Predictions, churn probability, percentile, tier and top-3 reasons for every row.
    `reasons`: "shap" (exact TreeSHAP, by decision pattern: `treeshap`) or "approx" (XGBoost's
    approximate contributions, no faster now for depth-3 trees). `timings`, when given, receives
    the seconds of each step (for the benchmark)."""
    check_reasons(reasons)
    if features.empty:
        raise ValueError("no customers to score")
    clock = _Clock(timings)
    # Fitted once here; otherwise each of the three model calls below would refit them.
    features = model.with_btyd(features)
    clock.lap("btyd_features")
    revenue_input, churn_input = model.dmatrices(features)
    clock.lap("encode")
    predicted = model.predict_revenue(features, revenue_input)
    churn = np.clip(model.predict_churn(churn_input), 0.0, 1.0)
    clock.lap("predict")
    names, impacts = top_reasons(
        model.contributions(features, revenue_input, approx=reasons == "approx"), model.reason_names
    )
    clock.lap("reasons")
    percentile = percentiles(predicted)
    n = len(features)
    table = pa.table(
        {
            "customer_id": pa.array(features["customer_id"].astype(str).to_numpy()),
            "model_version": pa.array(np.full(n, str(version))),
            "value_tier": pa.array(assign_tiers(percentile, tiers)),
            "reason_1": pa.array(names[:, 0]),
            "reason_2": pa.array(names[:, 1]),
            "reason_3": pa.array(names[:, 2]),
            "predicted_clv": pa.array(predicted),
            "horizon_days": pa.array(np.full(n, int(model.horizon_days)), pa.int64()),
            "churn_probability": pa.array(churn),
            "clv_percentile": pa.array(percentile),
            "reason_1_impact": pa.array(impacts[:, 0].astype(float)),
            "reason_2_impact": pa.array(impacts[:, 1].astype(float)),
            "reason_3_impact": pa.array(impacts[:, 2].astype(float)),
            "scored_at": pa.array(np.full(n, np.datetime64(scored_at, "us")), pa.timestamp("us")),
        },
        schema=SCORE_SCHEMA,
    )
    clock.lap("tiers_and_table")
    return table


class _Clock:
    def __init__(self, timings: dict[str, float] | None):
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = now - self.last
        self.last = now
