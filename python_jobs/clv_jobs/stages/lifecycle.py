"""The lifecycle steps a person or a scheduler takes between monitoring and promotion: whether a
retrain could help (`run_retrain_needed`) and the human approval (`run_approve`). Promotion and
rollback live in `registry`."""

from __future__ import annotations

from datetime import date

from clv_jobs import alerts, lake, lifecycle, registry, warehouse
from clv_jobs.model import load_model_config
from clv_jobs.settings import Settings
from clv_jobs.stages.evaluate import landed_metric

__all__ = ["run_retrain_needed", "run_approve", "learned_through"]

LEARNED_THROUGH_TAG = "learned_through_as_of_date"


def learned_through(version: str, mlflow_client=None) -> date | None:
    """The newest as-of date a registered version learned from (its MLflow run's tag)."""
    client = mlflow_client or registry.client()
    run = client.get_run(client.get_model_version(registry.MODEL_NAME, str(version)).run_id)
    value = run.data.tags.get(LEARNED_THROUGH_TAG) or run.data.tags.get("test_as_of_date")
    return date.fromisoformat(value) if value else None


def _newest_version(mlflow_client) -> str | None:
    versions = mlflow_client.search_model_versions(f"name='{registry.MODEL_NAME}'")
    return str(max(int(v.version) for v in versions)) if versions else None


def _newest_matured(settings: Settings) -> date | None:
    return warehouse.newest_as_of_date(settings, "marts.fct_clv_training_examples", "split <> 'unused'")


def _champion_below_gate(settings: Settings, champion: str | None) -> bool:
    """The champion's newest landed Gini (e.g. `evaluate` on a newer test date) is below the gate."""
    gini = landed_metric(settings.lake_dir, "normalized_gini").get(str(champion))
    return gini is not None and gini < load_model_config()["gates"]["min_normalized_gini"]


def run_retrain_needed(settings: Settings, as_of_date: date) -> lifecycle.RetrainAssessment:
    """Read the monitor's verdict at `as_of_date` and decide whether a retrain could differ.
    When it could not, the alert persists: it is raised for a person (medium) and recorded as a
    `retrain_skipped` decision instead of re-triggering training every night."""
    root = lake.LakeRoot(settings.lake_dir)
    partition = ("ml", "monitor_runs", f"as_of_date={as_of_date}")
    if not root.exists(*partition):
        raise ValueError(
            f"no monitor run at {as_of_date} ({root.uri(*partition)}): run `clv-jobs monitor --as-of-date {as_of_date}`"
        )
    run = root.read(*partition).iloc[0]
    client = registry.client()
    newest = _newest_version(client)
    champion = registry.alias_version(registry.CHAMPION, client)
    assessment = lifecycle.retrain_assessment(
        monitor_retrain=bool(run["retrain"]),
        monitor_reasons=str(run["reasons"]),
        proxy_triggered=str(run.get("proxy_status", "")) == "alert",
        newest_matured=_newest_matured(settings) if run["retrain"] else None,
        newest_version=newest,
        newest_learned_through=learned_through(newest, client) if newest else None,
        champion=champion,
        champion_below_gate=_champion_below_gate(settings, champion),
    )
    if run["retrain"] and not assessment.retrain:
        alerts.raise_alerts(
            settings.lake_dir,
            [alerts.Alert("medium", "alert_persists", assessment.message)],
            raised_by="retrain-needed",
            model_version=newest or "",
            as_of_date=as_of_date,
        )
        registry.record(settings.lake_dir, newest, "retrain_skipped", assessment.message)
    return assessment


def run_approve(settings: Settings, version: str, by: str, reason: str) -> None:
    """Record a person's approval of `version` for promotion: only after a passed shadow run, and
    not while its newest experiment (`clv-jobs experiment analyze`) rejected it."""
    if not by.strip() or not reason.strip():
        raise ValueError("approve needs --by NAME and --reason (both are recorded in fct_model_decisions)")
    history = registry.decision_history(settings.lake_dir)
    shadow = lifecycle.latest_shadow(history, str(version))
    if shadow is None:
        raise ValueError(
            f"model version {version} has no shadow run: run `clv-jobs shadow --model-version {version}` first"
        )
    if shadow["action"] != "shadow_passed":
        raise ValueError(
            f"model version {version}'s latest shadow run failed ({shadow['reasons']}): it cannot be approved"
        )
    experiment = lifecycle.latest_experiment(history, str(version))
    if experiment is not None and experiment["action"] == "experiment_rejected":
        raise ValueError(
            f"model version {version}'s latest experiment rejected it ({experiment['reasons']}): it cannot be approved"
        )
    registry.record(settings.lake_dir, str(version), "approved", f"approved: {reason}", decided_by=by)
