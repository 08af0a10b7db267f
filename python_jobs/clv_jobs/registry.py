"""MLflow tracking and registry: log a training run, apply the gates in config, move aliases.

Every decision (register, promote, reject, rollback) is returned as a row that the caller lands
in the lake (`lake/ml/decisions/`), so dbt can publish the history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["GateResult", "apply_gates", "tracking_uri", "MODEL_NAME", "CROWNING_ACTIONS"]

MODEL_NAME = "clv-xgboost"

# Decisions that hand a version the champion alias (the rollback history and the summary read them).
CROWNING_ACTIONS = ("champion", "promoted", "forced_promotion", "rolled_back")


def tracking_uri() -> str:
    """`CLV_MLFLOW_TRACKING_URI`, else a local sqlite store beside the project."""
    return os.environ.get("CLV_MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")


@dataclass
class GateResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)


def apply_gates(
    metrics: dict[str, dict[str, float]], fairness_ratio: float, gates: dict, champion: dict[str, float] | None
) -> GateResult:
    """Check the candidate (`metrics['xgboost']`) against the gates in config.

    `metrics` maps model name -> headline metrics on the test; `champion` holds the current
    champion's metrics on the same test, or None when there is none.
    """
    model = metrics["xgboost"]
    reasons = []
    if model["normalized_gini"] < gates["min_normalized_gini"]:
        reasons.append(f"normalized Gini {model['normalized_gini']:.3f} < {gates['min_normalized_gini']}")
    for metric in gates["must_beat_every_baseline"]:
        better = (lambda a, b: a > b) if metric == "normalized_gini" else (lambda a, b: a < b)
        for name, values in metrics.items():
            if name == "xgboost" or name == "oracle":
                continue
            if not better(model[metric], values[metric]):
                reasons.append(f"{metric} {model[metric]:.3f} does not beat baseline {name} ({values[metric]:.3f})")
    if fairness_ratio < gates["min_disparate_impact_ratio"]:
        reasons.append(f"disparate-impact ratio {fairness_ratio:.3f} < {gates['min_disparate_impact_ratio']}")
    if champion is not None:
        tolerance = gates["champion_tolerance"]
        if model["normalized_gini"] < champion["normalized_gini"] * (1 - tolerance):
            reasons.append(
                f"normalized Gini {model['normalized_gini']:.3f} worse than champion "
                f"{champion['normalized_gini']:.3f} beyond {tolerance:.0%}"
            )
        if model["rmse"] > champion["rmse"] * (1 + tolerance):
            reasons.append(
                f"RMSE {model['rmse']:.2f} worse than champion {champion['rmse']:.2f} beyond {tolerance:.0%}"
            )
    return GateResult(not reasons, reasons)


def now_utc() -> datetime:
    """Wall-clock time for audit columns only (decided_at, scored_at), never for job logic."""
    return datetime.now(UTC).replace(tzinfo=None)
