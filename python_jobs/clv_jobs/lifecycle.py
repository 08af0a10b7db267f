"""The model lifecycle's rules over the decision history (pure; `stages.lifecycle` does the I/O).

A challenger becomes champion only after a passed shadow run and a recorded human approval given
after it, and never while its newest experiment's verdict is reject (`promotion_blockers`). A
retrain is recommended only when it could differ from the newest registered version
(`retrain_assessment`): newer matured labels than that version learned from, a proxy trigger, or
the champion failing a gate on the current test date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

__all__ = [
    "ACTIONS",
    "promotion_blockers",
    "latest_shadow",
    "latest_experiment",
    "RetrainAssessment",
    "retrain_assessment",
]

# Every action a row of ml/decisions can carry, in the order of a version's life.
ACTIONS = (
    "champion",
    "challenger",
    "rejected",
    "shadow_passed",
    "shadow_failed",
    "approved",
    "promoted",
    "forced_promotion",
    "rolled_back",
    "retrain_skipped",
    "experiment_created",
    "experiment_adopted",
    "experiment_rejected",
    "experiment_inconclusive",
)


def latest_experiment(history: pd.DataFrame, version: str) -> pd.Series | None:
    """The newest experiment verdict of `version` (None when none was analyzed)."""
    rows = history[
        (history["model_version"] == str(version))
        & history["action"].isin(["experiment_adopted", "experiment_rejected", "experiment_inconclusive"])
    ]
    return None if rows.empty else rows.iloc[-1]


def latest_shadow(history: pd.DataFrame, version: str) -> pd.Series | None:
    rows = history[
        (history["model_version"] == str(version)) & history["action"].isin(["shadow_passed", "shadow_failed"])
    ]
    return None if rows.empty else rows.iloc[-1]


def promotion_blockers(history: pd.DataFrame, version: str) -> list[str]:
    """Why `version` may not be promoted yet (empty: it may). `history` is oldest first."""
    rows = history[history["model_version"] == str(version)]
    blockers = []
    rejected = rows[rows["action"] == "rejected"]
    if len(rejected):
        blockers.append(f"it failed its gates ({rejected.iloc[-1]['reasons']})")
    experiment = latest_experiment(history, version)
    if experiment is not None and experiment["action"] == "experiment_rejected":
        blockers.append(f"its latest experiment rejected it ({experiment['reasons']})")
    shadow = latest_shadow(history, version)
    if shadow is None:
        blockers.append(f"it has no shadow run (clv-jobs shadow --model-version {version} --as-of-date D)")
    elif shadow["action"] == "shadow_failed":
        blockers.append(f"its latest shadow run failed ({shadow['reasons']})")
    else:
        approved = rows[(rows["action"] == "approved") & (rows["decided_at"] >= shadow["decided_at"])]
        if approved.empty:
            blockers.append(
                f"it is not approved since its shadow run (clv-jobs approve {version} --by NAME --reason '...')"
            )
    return blockers


@dataclass(frozen=True)
class RetrainAssessment:
    retrain: bool
    message: str


def retrain_assessment(
    monitor_retrain: bool,
    monitor_reasons: str,
    proxy_triggered: bool,
    newest_matured: date | None,
    newest_version: str | None,
    newest_learned_through: date | None,
    champion: str | None,
    champion_below_gate: bool,
) -> RetrainAssessment:
    """Whether a retrain now could change anything. The monitor's alert alone is not enough: a
    retrain on the same matured data learns the same model and cannot clear it."""
    if not monitor_retrain:
        return RetrainAssessment(False, f"retrain not needed: {monitor_reasons}")
    if newest_version is None or newest_learned_through is None:
        return RetrainAssessment(True, f"retrain recommended: no registered version to compare ({monitor_reasons})")
    if newest_matured is not None and newest_matured > newest_learned_through:
        return RetrainAssessment(
            True,
            f"retrain recommended: labels have matured through {newest_matured}, version {newest_version} "
            f"learned through {newest_learned_through} ({monitor_reasons})",
        )
    if proxy_triggered or champion_below_gate:
        why = "the 30-day proxy dropped" if proxy_triggered else "the champion fails a gate on the current test date"
        return RetrainAssessment(True, f"retrain recommended: {why} ({monitor_reasons})")
    waiting = (
        f"; challenger version {newest_version} awaits its shadow run and approval"
        if champion is not None and newest_version != champion
        else ""
    )
    return RetrainAssessment(
        False,
        f"alert persists; a retrain would reproduce version {newest_version} (no labels matured after "
        f"{newest_learned_through}){waiting}: {monitor_reasons}",
    )
