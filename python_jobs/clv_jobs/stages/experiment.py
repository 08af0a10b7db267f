"""The experiment stage: create a canary or an A/B test of a challenger (assignment, audience
file for the CRM, the definition landed), simulate its campaign on the synthetic shop, analyze
it from the published outcomes and record the verdict the approval step reads."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from clv_jobs import experiments, lake, ml_contracts, registry, warehouse
from clv_jobs.model import load_model_config
from clv_jobs.settings import Settings

__all__ = ["run_create", "run_simulate", "run_analyze", "audience_path", "VERDICT_ACTIONS"]

# How a verdict is recorded in the decision history (what `approve` and `promote` read).
VERDICT_ACTIONS = {
    "adopt": "experiment_adopted",
    "reject": "experiment_rejected",
    "inconclusive": "experiment_inconclusive",
}


def audience_path(settings: Settings, experiment_id: str) -> Path:
    return settings.reports_dir / "experiments" / experiment_id / "audience.csv"


def _scores(settings: Settings, version: str, as_of: date, champion_version: str) -> pd.Series:
    """A version's predicted CLV at `as_of`: the published scores for the champion, the shadow
    scores for a challenger (`clv-jobs shadow` writes them)."""
    root = lake.LakeRoot(settings.lake_dir)
    if version == champion_version:
        parts = ("ml", "scores", f"as_of_date={as_of}")
        missing = f"no scores at {as_of}: run `clv-jobs score --as-of-date {as_of}` first"
    else:
        parts = ("shadow", "scores", f"model_version={version}", f"as_of_date={as_of}")
        missing = f"no shadow scores of version {version} at {as_of}: run `clv-jobs shadow --model-version {version}`"
    if not root.exists(*parts):
        raise FileNotFoundError(missing)
    frame = root.read(*parts)
    frame = frame[frame["model_version"].astype(str) == version]
    if frame.empty:
        raise FileNotFoundError(missing)
    return frame.set_index("customer_id")["predicted_clv"]


def _last_day(settings: Settings) -> date:
    """The newest ingest date of the landed order lines: a new campaign starts the day after."""
    days = [v for v in lake.LakeRoot(settings.lake_dir).partition_values("raw", "transactions") if v != "1970-01-01"]
    if not days:
        raise FileNotFoundError(f"no order lines in {settings.lake_dir}/raw/transactions")
    return date.fromisoformat(max(days))


def run_create(
    settings: Settings,
    kind: str,
    challenger_version: str,
    audience_size: int,
    exploration_share: float | None = None,
    scored_as_of_date: date | None = None,
    experiment_id: str | None = None,
    created_by: str | None = None,
) -> tuple[experiments.Design, pd.DataFrame, Path]:
    """Define an experiment, assign every eligible customer and export the audience."""
    config = load_model_config()["experiments"]
    if kind not in experiments.KINDS:
        raise ValueError(f"experiment kind must be one of {sorted(experiments.KINDS)}, not {kind!r}")
    champion_version, _ = registry.require_champion()
    resolved = registry.resolve_version(str(challenger_version))
    if resolved is None:
        raise ValueError(f"no model version holds the alias {challenger_version!r}")
    challenger_version = resolved
    if scored_as_of_date is None:
        scored = ml_contracts.partition_values(settings.lake_dir, "scores")
        if not scored:
            raise FileNotFoundError("no scores yet: run `clv-jobs score` first")
        scored_as_of_date = date.fromisoformat(max(scored))
    starts_on = max(scored_as_of_date, _last_day(settings)) + timedelta(days=1)
    experiment_id = experiment_id or f"{kind}-v{challenger_version}-{starts_on}"
    if lake.LakeRoot(settings.lake_dir).exists("ml", "experiments", f"experiment_id={experiment_id}"):
        raise ValueError(f"experiment {experiment_id} exists: give another --experiment-id")
    design = experiments.Design(
        experiment_id=experiment_id,
        kind=kind,
        champion_version=champion_version,
        challenger_version=challenger_version,
        scored_as_of_date=scored_as_of_date,
        audience_size=int(audience_size),
        exploration_share=config["exploration_share"] if exploration_share is None else float(exploration_share),
        starts_on=starts_on,
        min_days=int(config[f"{kind}_min_days"]),
    )
    assignments = experiments.build_assignments(
        design,
        _scores(settings, champion_version, scored_as_of_date, champion_version),
        _scores(settings, challenger_version, scored_as_of_date, champion_version),
    )
    now = registry.now_utc()
    ml_contracts.write(settings.lake_dir, "experiment_assignments", experiment_id, assignments.assign(assigned_at=now))
    definition = {k: v for k, v in asdict(design).items() if k != "experiment_id"}
    definition.update(
        campaign_id=design.campaign_id,
        treatment_share=design.treatment_share,
        created_by=created_by or registry.current_user(),
        created_at=now,
    )
    ml_contracts.write(settings.lake_dir, "experiments", experiment_id, [definition])
    path = audience_path(settings, experiment_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    audience = assignments[assignments["is_targeted"]].assign(campaign_id=design.campaign_id)
    audience[["customer_id", "campaign_id", "group_name"]].to_csv(path, index=False)
    registry.record(
        settings.lake_dir,
        challenger_version,
        "experiment_created",
        f"{kind} {experiment_id}: {len(audience):,} customers from {starts_on} for {design.min_days} days,"
        f" champion {champion_version}",
        decided_by=definition["created_by"],
    )
    return design, assignments, path


def _design(settings: Settings, experiment_id: str) -> experiments.Design:
    root = lake.LakeRoot(settings.lake_dir)
    if not root.exists("ml", "experiments", f"experiment_id={experiment_id}"):
        raise FileNotFoundError(f"no experiment {experiment_id} (clv-jobs experiment create)")
    row = root.read("ml", "experiments", f"experiment_id={experiment_id}").iloc[0]
    return experiments.Design(
        experiment_id=experiment_id,
        kind=row["kind"],
        champion_version=str(row["champion_version"]),
        challenger_version=str(row["challenger_version"]),
        scored_as_of_date=pd.Timestamp(row["scored_as_of_date"]).date(),
        audience_size=int(row["audience_size"]),
        exploration_share=float(row["exploration_share"]),
        starts_on=pd.Timestamp(row["starts_on"]).date(),
        min_days=int(row["min_days"]),
    )


def run_simulate(
    settings: Settings, experiment_id: str, true_lift: float = 0.0, days: int | None = None, seed: int = 0
):
    """Land the experiment's campaign as the synthetic shop would: campaign events and order
    lines over the window (needs the generator's oracle: synthetic lakes only)."""
    from clv_jobs.datasets import synthetic_campaign

    design = _design(settings, experiment_id)
    root = lake.LakeRoot(settings.lake_dir)
    oracle = ("oracle", "expected_revenue", f"as_of_date={design.scored_as_of_date}")
    if not root.exists("oracle", "customer_latent") or not root.exists(*oracle):
        raise FileNotFoundError(
            f"no oracle at {design.scored_as_of_date} in {settings.lake_dir}: campaigns are simulated on the"
            " synthetic shop only (clv-jobs generate); a real campaign lands its campaign_events from the CRM"
        )
    transactions = root.read("raw", "transactions")
    last_orders = (
        transactions.sort_values("InvoiceDate", kind="stable")
        .drop_duplicates("CustomerID", keep="last")[["CustomerID", "Country", "Currency"]]
        .rename(columns={"CustomerID": "customer_id"})
        .dropna(subset=["customer_id"])
    )
    assignments = root.read("ml", "experiment_assignments", f"experiment_id={experiment_id}")
    campaign, orders = synthetic_campaign.simulate_campaign(
        assignments,
        root.read("oracle", "customer_latent"),
        root.read(*oracle),
        last_orders,
        synthetic_campaign.read_rates(settings.dbt_project_dir / "seeds" / "currency_rates.csv"),
        design.campaign_id,
        design.starts_on,
        synthetic_campaign.CampaignParams(days=days or design.min_days, true_lift=true_lift, seed=seed),
    )
    synthetic_campaign.write_campaign(settings.lake_dir, campaign, orders)
    return design, campaign.num_rows, orders.num_rows


def _scoring_cost_ratio(settings: Settings, design: experiments.Design) -> float | None:
    """The challenger's scoring time over the champion's, from its newest shadow run at the
    scored date (None for an A/A test or without a shadow run)."""
    if design.challenger_version == design.champion_version:
        return None
    root = lake.LakeRoot(settings.lake_dir)
    runs = root.read("ml", "shadow_runs") if root.exists("ml", "shadow_runs") else pd.DataFrame()
    if runs.empty:
        return None
    runs = runs[runs["challenger_version"].astype(str) == design.challenger_version].sort_values("shadowed_at")
    if runs.empty:
        return None
    last = runs.iloc[-1]
    return float(last["challenger_seconds"] / last["champion_seconds"])


def run_analyze(settings: Settings, experiment_id: str) -> experiments.Result:
    """Judge the experiment from marts.fct_experiment_outcomes; land every metric and the verdict
    (ml/experiment_results) and record it for the challenger (fct_model_decisions)."""
    design = _design(settings, experiment_id)
    outcomes = warehouse.read_mart(
        settings,
        "(select group_name, is_targeted, orders, revenue_usd, is_unsubscribed, days_observed"
        f" from marts.fct_experiment_outcomes where experiment_id = '{experiment_id}') as o",
    )
    if outcomes.empty:
        raise ValueError(
            f"marts.fct_experiment_outcomes has no rows for {experiment_id}: land the campaign, then"
            " `clv-jobs check-landing`, `clv-jobs dbt build` and `clv-jobs dbt build --selector ml_marts`"
        )
    outcomes["is_targeted"] = outcomes["is_targeted"].astype(bool)
    outcomes["is_unsubscribed"] = outcomes["is_unsubscribed"].astype(bool)
    days = int(outcomes["days_observed"].max())
    result = experiments.analyze(
        design, outcomes, days, _scoring_cost_ratio(settings, design), load_model_config()["experiments"]
    )
    now = registry.now_utc()
    ml_contracts.write(
        settings.lake_dir,
        "experiment_results",
        experiment_id,
        pd.DataFrame(result.rows).assign(analyzed_at=now),
    )
    registry.record(
        settings.lake_dir,
        design.challenger_version,
        VERDICT_ACTIONS[result.verdict],
        f"{design.kind} {experiment_id}: {result.verdict}: {'; '.join(result.reasons)}",
    )
    return result
