"""The MLflow model registry and the decision history: the gates, the aliases (champion,
challenger, ready-for-canary), loading a version, promotion and rollback.

Every step of a version's life (registered, rejected, shadow verdict, approval, promotion,
rollback) lands as a row of `lake/ml/decisions/` with who, when and why, so dbt publishes the
history (`fct_model_decisions`). MLflow is imported inside the functions: the landing guard and
the raw-data commands import this module for `now_utc` and should not pay for MLflow.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from clv_jobs import lake, ml_contracts

__all__ = [
    "GateResult",
    "apply_gates",
    "tracking_uri",
    "MODEL_NAME",
    "CROWNING_ACTIONS",
    "CHAMPION",
    "CHALLENGER",
    "READY_FOR_CANARY",
    "client",
    "load_champion",
    "require_champion",
    "load_model_version",
    "alias_version",
    "resolve_version",
    "set_alias",
    "land_decision",
    "record",
    "decision_history",
    "promote",
    "rollback",
    "current_user",
    "now_utc",
]

MODEL_NAME = "clv-xgboost"
CHAMPION, CHALLENGER, READY_FOR_CANARY = "champion", "challenger", "ready-for-canary"

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
    metrics: dict[str, dict[str, float]],
    fairness_ratio: float,
    gates: dict,
    champion: dict[str, float] | None,
    family: str = "xgboost",
    fairness_p_value: float = 0.0,
) -> GateResult:
    """Check the candidate (`metrics['xgboost']`, whatever its family) against the gates in config.

    `metrics` maps model name -> headline metrics on the test; `champion` holds the current
    champion's metrics on the same test, or None when there is none. A candidate of the BTYD
    family is that baseline recalibrated, so it need not beat it (it must beat the others).
    A disparate-impact ratio below the limit fails only when its permutation p-value is below
    `fairness_alpha` (evidence of a gap, not the noise of small slices).
    """
    model = metrics["xgboost"]
    reasons = []
    if model["normalized_gini"] < gates["min_normalized_gini"]:
        reasons.append(f"normalized Gini {model['normalized_gini']:.3f} < {gates['min_normalized_gini']}")
    if "max_abs_bias" in gates and abs(model["bias"]) > gates["max_abs_bias"]:
        reasons.append(f"aggregate bias {model['bias']:+.1%} beyond ±{gates['max_abs_bias']:.0%}")
    for metric in gates["must_beat_every_baseline"]:
        better = (lambda a, b: a > b) if metric == "normalized_gini" else (lambda a, b: a < b)
        for name, values in metrics.items():
            if name in ("xgboost", "oracle", family):
                continue
            if not better(model[metric], values[metric]):
                reasons.append(f"{metric} {model[metric]:.3f} does not beat baseline {name} ({values[metric]:.3f})")
    if fairness_ratio < gates["min_disparate_impact_ratio"] and fairness_p_value < gates.get("fairness_alpha", 1.0):
        reasons.append(
            f"disparate-impact ratio {fairness_ratio:.3f} < {gates['min_disparate_impact_ratio']} "
            f"(permutation p = {fairness_p_value:.3f})"
        )
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


def current_user() -> str:
    """Who runs a command, for `decided_by` (`CLV_USER`, else the login name)."""
    return os.environ.get("CLV_USER") or getpass.getuser()


def client():
    """An MLflow client on the configured tracking store."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient()


def alias_version(alias: str, mlflow_client=None) -> str | None:
    """The version holding `alias`, or None."""
    import mlflow

    try:
        return str((mlflow_client or client()).get_model_version_by_alias(MODEL_NAME, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def resolve_version(name: str, mlflow_client=None) -> str | None:
    """A version number as given, or the version an alias (champion, challenger,
    ready-for-canary) points to; None for an alias nobody holds."""
    if name in (CHAMPION, CHALLENGER, READY_FOR_CANARY):
        return alias_version(name, mlflow_client)
    return str(name)


def set_alias(alias: str, version: str, mlflow_client=None) -> None:
    (mlflow_client or client()).set_registered_model_alias(MODEL_NAME, alias, str(version))


def load_model_version(version: str):
    """A registered version of the model (`ClvModel`), whatever its alias."""
    import mlflow

    from clv_jobs.model import ClvModel

    client()
    try:
        local = mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/{version}")
    except mlflow.exceptions.MlflowException:
        raise ValueError(f"model version {version} is not registered ({MODEL_NAME}, {tracking_uri()})") from None
    return ClvModel.load(next(Path(local).rglob("clv_model.json")).parent)


def load_champion(mlflow_client=None):
    """(version, model) of the registry's champion, or None when there is none yet."""
    version = alias_version(CHAMPION, mlflow_client)
    return None if version is None else (version, load_model_version(version))


def require_champion():
    mlflow_client = client()
    champion = load_champion(mlflow_client)
    if champion is None:
        versions = sorted(int(v.version) for v in mlflow_client.search_model_versions(f"name='{MODEL_NAME}'"))
        if not versions:
            raise ValueError(f"no champion in the registry ({tracking_uri()}): run `clv-jobs train` first")
        # Trained, but no version passed the gates: say so, and what the user can do about it.
        raise ValueError(
            f"no champion in the registry ({tracking_uri()}): versions {versions} are registered and none passed "
            f"the gates (the decision `clv-jobs train` printed, the model card under reports/); retrain on more "
            f"history, or promote one yourself: `clv-jobs promote VERSION --force --reason ...`"
        )
    return champion


def land_decision(
    lake_dir,
    run_id: str,
    version: str,
    action: str,
    reasons: list[str],
    metrics: dict,
    test_as_of: date,
    decided_by: str | None = None,
) -> None:
    """One row of `ml/decisions/` (its own partition, so concurrent steps never collide)."""
    decided_at = now_utc()
    row = {
        "run_id": run_id,
        "model_version": str(version),
        "action": action,
        "reasons": "; ".join(reasons) or "all gates passed",
        "decided_by": decided_by or current_user(),
        "normalized_gini": float(metrics.get("normalized_gini", float("nan"))),
        "rmse": float(metrics.get("rmse", float("nan"))),
        "test_as_of_date": test_as_of,
        "decided_at": decided_at,
    }
    ml_contracts.write(lake_dir, "decisions", f"{run_id}-{action}-{decided_at:%Y%m%dT%H%M%S%f}", [row])


def record(lake_dir, version: str, action: str, reason: str, decided_by: str | None = None) -> None:
    """A decision about a registered version, with the headline test metrics of its run."""
    mlflow_client = client()
    target = mlflow_client.get_model_version(MODEL_NAME, str(version))
    run = mlflow_client.get_run(target.run_id)
    metrics = {
        "normalized_gini": run.data.metrics.get("xgboost__normalized_gini", float("nan")),
        "rmse": run.data.metrics.get("xgboost__rmse", float("nan")),
    }
    test_as_of = date.fromisoformat(run.data.tags.get("test_as_of_date", "1970-01-01"))
    land_decision(lake_dir, target.run_id, str(version), action, [reason], metrics, test_as_of, decided_by)


def decision_history(lake_dir) -> pd.DataFrame:
    """Every decision so far, oldest first."""
    root = lake.LakeRoot(lake_dir)
    if not root.exists("ml", "decisions"):
        return pd.DataFrame(columns=ml_contracts.ML_TABLES["decisions"].column_names)
    return root.read("ml", "decisions").sort_values("decided_at", kind="stable").reset_index(drop=True)


def _require_registered(mlflow_client, version: str):
    import mlflow

    try:
        return mlflow_client.get_model_version(MODEL_NAME, str(version))
    except mlflow.exceptions.MlflowException:
        known = sorted(int(v.version) for v in mlflow_client.search_model_versions(f"name='{MODEL_NAME}'"))
        raise ValueError(f"model version {version} is not registered ({MODEL_NAME} has versions {known})") from None


def promote(
    lake_dir, version: str, force: bool = False, reason: str | None = None, decided_by: str | None = None
) -> str:
    """Make `version` the champion (the previous one stays registered); returns the old one.

    A version needs a passed shadow run and a recorded approval after it (`lifecycle`); one that
    failed its gates, its shadow run or was never approved needs `force` and a `reason`, and is
    recorded as `forced_promotion`.
    """
    from clv_jobs import lifecycle

    mlflow_client = client()
    _require_registered(mlflow_client, version)
    if force and not (reason or "").strip():
        raise ValueError("promote --force needs --reason (it is recorded in fct_model_decisions)")
    blockers = lifecycle.promotion_blockers(decision_history(lake_dir), str(version))
    if blockers and not force:
        raise ValueError(
            f"model version {version} cannot be promoted: {'; '.join(blockers)} "
            f"(or promote it anyway with --force --reason '...')"
        )
    previous = alias_version(CHAMPION, mlflow_client) or "none"
    set_alias(CHAMPION, version, mlflow_client)
    action = "forced_promotion" if blockers else "promoted"
    note = f"previous champion {previous}" + (f"; {reason}" if reason else "")
    if blockers:
        note += f"; overriding: {'; '.join(blockers)}"
    record(lake_dir, str(version), action, f"{action.replace('_', ' ')}; {note}", decided_by)
    return previous


def rollback(lake_dir, decided_by: str | None = None) -> str:
    """Give the champion alias back to the champion before the current one (from the decision
    history in the lake); returns the version now champion."""
    mlflow_client = client()
    current = alias_version(CHAMPION, mlflow_client)
    if current is None:
        raise ValueError("no champion to roll back")
    history = decision_history(lake_dir)
    crowned = history[history["action"].isin(CROWNING_ACTIONS)]
    earlier = [v for v in crowned["model_version"].tolist() if v != current]
    if not earlier:
        raise ValueError(f"version {current} is the only champion there has been: nothing to roll back to")
    version = earlier[-1]
    set_alias(CHAMPION, version, mlflow_client)
    record(lake_dir, version, "rolled_back", f"rolled back from version {current}", decided_by)
    return version
