"""`clv-jobs experiment`: plan an experiment's size before running it."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer

from clv_jobs.cli._common import app
from clv_jobs.settings import load_settings

experiment_app = typer.Typer(help="Experiments that prove a model's business value.", no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")


class Kind(StrEnum):
    canary = "canary"  # 95 % champion, 5 % challenger: is it no worse?
    ab = "ab"  # 50 / 50: does it earn more?


# The treatment's share of the two compared arms.
TREATMENT_SHARE = {Kind.canary: 0.05, Kind.ab: 0.5}


def baseline_from_warehouse(settings, window_days: int = 30) -> dict:
    """Revenue per user and conversion over `window_days` at the newest as-of date whose window
    the data has fully observed (fct_customer_labels): what a campaign's control group will show."""
    from clv_jobs import warehouse

    dates = warehouse.read_mart(settings, "(select distinct as_of_date from marts.fct_customer_labels) as d")
    dates = sorted(dates["as_of_date"])
    if not dates:
        raise ValueError("marts.fct_customer_labels is empty: run dbt build first")
    observed = [d for d in dates if d + timedelta(days=window_days) <= dates[-1]]
    if not observed:
        raise ValueError(f"no as-of date in marts.fct_customer_labels has {window_days} observed days after it")
    as_of = observed[-1]
    rows = warehouse.read_mart(
        settings,
        f"(select revenue_next_{window_days}d_usd as revenue, purchase_days_next_{window_days}d as purchase_days"
        f" from marts.fct_customer_labels where as_of_date = '{as_of}') as l",
    )
    return {
        "as_of_date": as_of,
        "customers": len(rows),
        "revenue_mean": float(rows["revenue"].mean()),
        "revenue_sd": float(rows["revenue"].std()),
        "conversion": float((rows["purchase_days"] > 0).mean()),
    }


@experiment_app.command("plan")
def plan(
    kind: Annotated[Kind, typer.Option(help="canary (95/5) or ab (50/50).")] = Kind.ab,
    mde: Annotated[float, typer.Option(help="Minimum detectable effect, relative (0.05 = 5 %).")] = 0.05,
    power: Annotated[float, typer.Option(help="Probability of detecting an effect of that size.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    revenue_mean: Annotated[float | None, typer.Option(help="Revenue per user (default: the warehouse's).")] = None,
    revenue_sd: Annotated[float | None, typer.Option(help="Its standard deviation (default: the warehouse's).")] = None,
    conversion: Annotated[float | None, typer.Option(help="Conversion rate (default: the warehouse's).")] = None,
) -> None:
    """Users needed per arm to detect a relative change of MDE in revenue per user (Welch's
    t-test) and in conversion (two-proportion test), from the shop's own 30-day baseline."""
    from clv_jobs import experiment_stats as es

    if not 0 < mde < 1 or not 0 < power < 1 or not 0 < alpha < 1:
        raise typer.BadParameter("--mde, --power and --alpha must be between 0 and 1")
    if None in (revenue_mean, revenue_sd, conversion):
        base = baseline_from_warehouse(load_settings())
        typer.echo(
            f"baseline: {base['customers']:,} customers at {base['as_of_date']}, next 30 days"
            " (marts.fct_customer_labels)"
        )
        revenue_mean = base["revenue_mean"] if revenue_mean is None else revenue_mean
        revenue_sd = base["revenue_sd"] if revenue_sd is None else revenue_sd
        conversion = base["conversion"] if conversion is None else conversion
    share = TREATMENT_SHARE[kind]
    ratio = share / (1 - share)
    control_revenue = es.sample_size_mean(
        mde * revenue_mean, revenue_sd, alpha, power, ratio, sd_treatment=revenue_sd * (1 + mde)
    )
    control_conversion = es.sample_size_proportion(conversion, mde * conversion, alpha, power, ratio)
    typer.echo(
        f"{kind.value}: treatment {share:.0%} of the compared users; alpha {alpha}, power {power:.0%}, MDE {mde:.1%}"
    )
    for metric, level, control in (
        ("revenue per user", f"${revenue_mean:,.2f} (sd ${revenue_sd:,.2f})", control_revenue),
        ("conversion", f"{conversion:.2%}", control_conversion),
    ):
        treatment = int(-(-control * ratio // 1))
        typer.echo(
            f"  {metric:<17} baseline {level}: control {control:,} + treatment {treatment:,}"
            f" = {control + treatment:,} users"
        )


@experiment_app.command("create")
def create(
    kind: Annotated[Kind, typer.Option(help="canary (95/5, 1 week) or ab (50/50, 4 weeks).")],
    challenger_version: Annotated[str, typer.Option(help="The model version tested against the champion.")],
    audience_size: Annotated[int, typer.Option(help="Customers the campaign goes to (all groups).")],
    exploration_share: Annotated[
        float | None, typer.Option(help="Share of the audience chosen at random (default 0.1, conf/model.toml).")
    ] = None,
    as_of_date: Annotated[str | None, typer.Option(help="Scores to choose from (default: the newest).")] = None,
    experiment_id: Annotated[str | None, typer.Option(help="Default: <kind>-v<version>-<start day>.")] = None,
) -> None:
    """Assign every customer scored by both models to a group by a keyed hash of (experiment,
    customer), choose the audience (each group's top customers by its model, exploration at
    random), land the definition and the assignments, and export the audience for the CRM."""
    from clv_jobs.cli._common import lake_writer_lock, parse_date
    from clv_jobs.stages import experiment

    with lake_writer_lock():
        design, assignments, path = experiment.run_create(
            load_settings(),
            kind.value,
            challenger_version,
            audience_size,
            exploration_share,
            parse_date(as_of_date) if as_of_date else None,
            experiment_id,
        )
    counts = assignments.groupby("group_name")["is_targeted"].agg(["size", "sum"])
    typer.echo(
        f"experiment {design.experiment_id}: {design.kind}, challenger {design.challenger_version} vs champion"
        f" {design.champion_version}, scores of {design.scored_as_of_date}, from {design.starts_on} for"
        f" {design.min_days} days"
    )
    for group, row in counts.iterrows():
        typer.echo(f"  {group:<12} {row['size']:>8,} customers, {row['sum']:>7,} in the audience")
    typer.echo(f"audience for the CRM: {path} (campaign {design.campaign_id})")


@experiment_app.command("simulate")
def simulate(
    experiment_id: Annotated[str, typer.Argument(help="The experiment.")],
    true_lift: Annotated[float, typer.Option(help="Planted lift of the treatment's conversion (0.1 = +10 %).")] = 0.0,
    days: Annotated[int | None, typer.Option(help="Days to simulate (default: the experiment's minimum).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated responses.")] = 0,
) -> None:
    """Synthetic shop only: land the campaign's events and the window's order lines (organic and
    campaign-driven) as the CRM and the shop would. Then: check-landing, dbt build, ML marts."""
    from clv_jobs.cli._common import lake_writer_lock
    from clv_jobs.stages import experiment

    with lake_writer_lock():
        design, events, lines = experiment.run_simulate(load_settings(), experiment_id, true_lift, days, seed)
    typer.echo(
        f"simulated {design.campaign_id}: {events:,} campaign events and {lines:,} order lines from {design.starts_on}"
    )
    typer.echo(
        "next: clv-jobs check-landing && clv-jobs dbt build && clv-jobs dbt build --selector ml_marts"
        f" && clv-jobs experiment analyze {experiment_id}"
    )


@experiment_app.command("analyze")
def analyze(experiment_id: Annotated[str, typer.Argument(help="The experiment.")]) -> None:
    """The verdict (adopt, reject, inconclusive) from marts.fct_experiment_outcomes: the primary
    metric with its interval and lift, the secondary metrics, the guardrails and the SRM check;
    landed in ml/experiment_results and recorded for the challenger (approve reads it)."""
    from clv_jobs.cli._common import lake_writer_lock
    from clv_jobs.stages import experiment

    with lake_writer_lock():
        result = experiment.run_analyze(load_settings(), experiment_id)
    typer.echo(f"experiment {experiment_id}")
    for row in result.rows:
        typer.echo("  " + _describe(row))
    typer.echo(f"verdict: {result.verdict.upper()}: {'; '.join(result.reasons)}")


def _describe(row: dict) -> str:
    status = {True: "pass", False: "FAIL", None: "    "}[row["is_passed"]]
    if row["metric_name"] == "revenue_per_user":  # the A/B test's primary: a win, or none
        status = "WIN " if row["is_passed"] else "none"
    name = f"{row['role']:<11} {row['metric_name']:<28} {status}"
    if row["metric_name"] == "sample_ratio":
        return f"{name} control {row['control_users']:,} / treatment {row['treatment_users']:,}, p={row['p_value']:.3g}"
    if row["metric_name"] == "scoring_cost_ratio":
        value = row["treatment_value"]
        return f"{name} " + ("n/a (no shadow timing)" if value is None else f"{value:.2f}x the champion's")
    if row["control_value"] is None:
        return f"{name} {row['treatment_value']:.4g} ({row['treatment_users']:,} users)"
    money = row["metric_name"] in ("revenue_per_user", "revenue_per_targeted_user", "average_order_value")
    fmt = (lambda v: f"${v:,.2f}") if money else (lambda v: f"{v:.2%}")
    return (
        f"{name} control {fmt(row['control_value'])} vs treatment {fmt(row['treatment_value'])},"
        f" diff {fmt(row['difference'])} [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}],"
        f" lift {row['relative_lift']:+.1%}, p={row['p_value']:.3g}"
    )
