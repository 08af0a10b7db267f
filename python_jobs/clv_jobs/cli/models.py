"""`clv-jobs` commands of the model's life: train, evaluate, score, monitor, retrain-needed,
shadow, approve, promote, rollback, alert and backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.cli._common import (
    AttachOption,
    Backend,
    BackendOption,
    WaitOption,
    app,
    lake_writer_lock,
    on_backend,
    parse_date,
    progress,
)
from clv_jobs.settings import load_settings


@app.command()
def train(
    as_of_date: Annotated[
        str | None, typer.Option(help="The test as-of date; must equal the marts' (default: theirs).")
    ] = None,
    tune: Annotated[
        bool, typer.Option(help="Search the XGBoost parameters with optuna (on valid) before the refit.")
    ] = False,
    tune_trials: Annotated[int, typer.Option(help="Tuning budget: at most this many fits.", min=1)] = 30,
    tune_timeout: Annotated[float, typer.Option(help="Tuning budget: at most this many seconds.", min=1)] = 600,
    backend: BackendOption = Backend.local,
    wait: WaitOption = True,
    attach: AttachOption = None,
) -> None:
    """Train XGBoost + churn head against the baselines, evaluate, log to MLflow, register with gates."""
    from clv_jobs.regressor import TuneBudget
    from clv_jobs.stages import train as train_stage

    settings = load_settings()
    budget = TuneBudget(tune_trials, tune_timeout) if tune else None
    parsed = parse_date(as_of_date) if as_of_date else None
    outcome = on_backend(
        "train",
        backend,
        wait,
        attach,
        local=lambda: train_stage.run_train(settings, parsed, progress=progress, tune=budget),
        submit=lambda: train_stage.submit_train_sagemaker(settings, parsed, progress=progress, tune=budget),
        collect=lambda job: train_stage.collect_train_sagemaker(settings, job, progress=progress),
    )
    if outcome is None:
        return
    table = outcome.metrics.set_index("model")
    typer.echo(f"\nRegistered: {outcome.family_note}")
    typer.echo(f"Test metrics (MLflow run {outcome.run_id}, model version {outcome.model_version}; 'xgboost' is")
    typer.echo(f"the candidate, whatever its family: {outcome.family}):")
    typer.echo(table.to_string(float_format=lambda v: f"{v:,.3f}"))
    typer.echo(f"\ndecision: {outcome.decision}" + (f" ({'; '.join(outcome.reasons)})" if outcome.reasons else ""))
    typer.echo(f"report and model card: {outcome.report_dir}")


@app.command("evaluate")
def evaluate_command(
    model_version: Annotated[
        str | None, typer.Option(help="Registered version to evaluate (default: the champion).")
    ] = None,
) -> None:
    """Evaluate a registered model on the marts' test as-of date beside every baseline (train
    does this for its own candidate); log to MLflow, land the evaluations in the lake."""
    from clv_jobs.stages import evaluate as evaluate_stage

    with lake_writer_lock():
        outcome = evaluate_stage.run_evaluate(load_settings(), model_version, progress=progress)
    table = outcome.metrics.set_index("model")
    typer.echo(
        f"\nModel version {outcome.model_version} on the test as-of date {outcome.test_as_of_date} "
        f"(MLflow run {outcome.run_id}):"
    )
    typer.echo(table.to_string(float_format=lambda v: f"{v:,.3f}"))
    fairness = outcome.fairness
    typer.echo(
        f"disparate-impact ratio across {fairness['slice']}: {fairness['ratio']:.3f} "
        f"(permutation p = {fairness['p_value']:.3f})"
    )
    typer.echo(f"plots and tables: {outcome.report_dir}")


@app.command()
def score(
    as_of_date: Annotated[
        str | None,
        typer.Option(
            help="Score customers as of this day (YYYY-MM-DD; any day, ADR 0016); by default the newest "
            "as-of date in fct_customer_features. Not with --attach."
        ),
    ] = None,
    reasons: Annotated[
        str,
        typer.Option(help="Top-3 reasons from exact TreeSHAP ('shap') or XGBoost's approximation ('approx')."),
    ] = "shap",
    backend: BackendOption = Backend.local,
    wait: WaitOption = True,
    attach: AttachOption = None,
) -> None:
    """Score every customer at the as-of date with the champion; write lake/ml/scores/as_of_date=D/."""
    from clv_jobs.stages import score as score_stage

    settings = load_settings()
    if as_of_date is not None and attach is not None:
        raise typer.BadParameter("give --as-of-date or --attach, not both")
    if as_of_date is None and attach is None:
        as_of_date = str(score_stage.newest_feature_date(settings))
        progress(f"no --as-of-date: scoring the newest as-of date in fct_customer_features, {as_of_date}")
    outcome = on_backend(
        "score",
        backend,
        wait,
        attach,
        local=lambda: score_stage.run_score(settings, parse_date(as_of_date), progress=progress, reasons=reasons),
        submit=lambda: score_stage.submit_score_sagemaker(settings, parse_date(as_of_date), progress, reasons),
        collect=lambda job: score_stage.collect_score_sagemaker(settings, job, progress=progress),
    )
    if outcome is None:
        return
    typer.echo(
        f"scored {outcome.rows:,} customers at {outcome.as_of_date} with model version "
        f"{outcome.model_version} -> {outcome.partition}"
    )
    typer.echo("by tier: " + ", ".join(f"{tier} {n:,}" for tier, n in sorted(outcome.tiers.items())))


@app.command()
def monitor(
    as_of_date: Annotated[str, typer.Option(help="The scored as-of date to monitor (YYYY-MM-DD).")],
    fail_on_retrain: Annotated[
        bool, typer.Option(help="Exit with code 3 when the decision is to retrain (for schedulers).")
    ] = False,
) -> None:
    """Drift (PSI, KS) of features and scores vs the newest training population and the previous
    scored date, the 30-day proxy and KPI cohorts, realized backtest of matured scores, retrain
    decision and tiered alerts; lands lake/ml/{drift,proxy,kpi_cohorts,backtests,monitor_runs,alerts}/."""
    from clv_jobs.stages import monitor as monitor_stage

    with lake_writer_lock():
        outcome = monitor_stage.run_monitor(load_settings(), parse_date(as_of_date), progress=progress)
    for reference, part in outcome.drift.groupby("reference", sort=False):
        drift = part.sort_values("psi", ascending=False).set_index("feature_name")
        against = f"{reference} ({part['reference_as_of_date'].iloc[0]})"
        typer.echo(
            f"\nDrift at {outcome.as_of_date} of model version {outcome.model_version}'s inputs against {against}:"
        )
        typer.echo(
            drift[["feature_kind", "psi", "ks_statistic", "status"]]
            .head(12)
            .to_string(float_format=lambda v: f"{v:.3f}")
        )
    if outcome.proxy.empty:
        typer.echo("\n30-day proxy: no scored date's 30 days have passed yet.")
    else:
        typer.echo("\n30-day proxy (predicted CLV vs the next 30 days' spend):")
        columns = ["model_version", "customers", "spearman", "pearson", "reference_spearman", "relative_drop"]
        typer.echo(outcome.proxy.set_index("scored_as_of_date")[columns].to_string(float_format=lambda v: f"{v:.3f}"))
    if outcome.backtests.empty:
        typer.echo("\nRealized backtest: no scored as-of date has a matured horizon yet.")
    else:
        typer.echo("\nRealized backtest (scores vs what customers then spent):")
        columns = ["model_version", "customers", "rmse", "mae", "normalized_gini", "test_normalized_gini", "bias"]
        typer.echo(
            outcome.backtests.set_index("scored_as_of_date")[columns].to_string(float_format=lambda v: f"{v:,.3f}")
        )
    verdict = "RETRAIN" if outcome.decision.retrain else "no retrain needed"
    typer.echo(
        f"\ndecision: {verdict}" + (f" ({'; '.join(outcome.decision.reasons)})" if outcome.decision.reasons else "")
    )
    if fail_on_retrain and outcome.decision.retrain:
        raise typer.Exit(code=3)


@app.command("retrain-needed")
def retrain_needed(
    as_of_date: Annotated[str, typer.Option(help="The monitored as-of date (YYYY-MM-DD).")],
) -> None:
    """Exit 0 when a retrain is recommended and could differ from the newest registered version,
    99 when it is not (Airflow skips a task that exits 99), 1 when the date was not monitored.
    An alert a retrain cannot clear is raised for a person and recorded as `retrain_skipped`."""
    from clv_jobs.stages import lifecycle as lifecycle_stage

    with lake_writer_lock():
        assessment = lifecycle_stage.run_retrain_needed(load_settings(), parse_date(as_of_date))
    typer.echo(assessment.message)
    if not assessment.retrain:
        raise typer.Exit(code=99)


@app.command()
def shadow(
    model_version: Annotated[
        str, typer.Option(help="The challenger to shadow: a registered version, or the alias `challenger`.")
    ],
    as_of_date: Annotated[str, typer.Option(help="Score the champion's population at this day (YYYY-MM-DD).")],
) -> None:
    """Score the champion's population with a challenger into lake/shadow/ (never the published
    scores), compare with the champion and record the verdict; exit 1 when it fails, 99 when the
    alias `challenger` names no version other than the champion (nothing to shadow)."""
    from clv_jobs import registry
    from clv_jobs.stages import shadow as shadow_stage

    version = registry.resolve_version(model_version)
    if model_version == registry.CHALLENGER and version in (None, registry.alias_version(registry.CHAMPION)):
        typer.echo(f"no challenger waiting (challenger alias: {version or 'none'}): nothing to shadow")
        raise typer.Exit(code=99)
    if version is None:
        raise ValueError(f"no model version holds the alias {model_version!r}")
    with lake_writer_lock():
        outcome = shadow_stage.run_shadow(load_settings(), version, parse_date(as_of_date), progress=progress)
    f = outcome.figures
    typer.echo(
        f"shadow {outcome.shadow_id}: challenger {outcome.challenger_version} beside champion "
        f"{outcome.champion_version} on {f['customers']:,} customers\n"
        f"  mean prediction {f['challenger_mean_prediction']:,.2f} vs {f['champion_mean_prediction']:,.2f} "
        f"(shift {f['mean_prediction_shift']:.1%}); zero {f['zero_share']:.1%}; missing {f['missing_share']:.1%}\n"
        f"  Spearman {f['spearman']:.3f}; top-decile overlap {f['top_decile_overlap']:.1%}\n"
        f"  CPU time {f['challenger_seconds']:.2f} s vs {f['champion_seconds']:.2f} s; "
        f"peak memory {f['challenger_peak_mb']:.0f} MB vs {f['champion_peak_mb']:.0f} MB\n"
        f"  scores: {outcome.partition}"
    )
    if outcome.failed:
        typer.echo(f"shadow FAILED: {'; '.join(outcome.failed)}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"shadow passed: version {outcome.challenger_version} is ready-for-canary; approve it to promote")


@app.command()
def approve(
    version: Annotated[
        str, typer.Argument(help="The challenger to approve (after a passed shadow run): a version or an alias.")
    ],
    by: Annotated[str, typer.Option(help="Who approves; recorded in fct_model_decisions.")],
    reason: Annotated[str, typer.Option(help="Why; recorded in fct_model_decisions.")],
) -> None:
    """Record a human approval of VERSION for promotion (needs a passed shadow run)."""
    from clv_jobs import registry
    from clv_jobs.stages import lifecycle as lifecycle_stage

    version = registry.resolve_version(version) or version
    with lake_writer_lock():
        lifecycle_stage.run_approve(load_settings(), version, by, reason)
    typer.echo(f"approved: version {version} by {by}; promote it with `clv-jobs promote {version}`")


@app.command()
def alert(
    tier: Annotated[str, typer.Option(help="high, medium or low.")],
    rule: Annotated[str, typer.Option(help="The rule that fired, e.g. pipeline_failed.")],
    message: Annotated[str, typer.Option(help="What happened, in one line.")],
    raised_by: Annotated[str, typer.Option(help="The job or DAG raising it.")] = "cli",
) -> None:
    """Raise one alert: route it by tier (SNS topic per tier, else stderr) and land it in lake/ml/alerts/."""
    from clv_jobs import alerts

    alerts.raise_alerts(load_settings().lake_dir, [alerts.Alert(tier, rule, message)], raised_by=raised_by)


@app.command()
def backtest(
    as_of_date: Annotated[
        list[str],
        typer.Option(help="Pretend today is this month end (YYYY-MM-DD); repeat it for a rolling origin."),
    ],
    horizon_days: Annotated[int, typer.Option(help="Predict revenue over (D, D + H].", min=1)] = 365,
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the backtest's DuckDB warehouse.")] = Path(
        ".backtest"
    ),
) -> None:
    """Train and evaluate as of an earlier date on the loaded lake (only data on or before D goes
    into features and training); print the model and every baseline side by side. With several
    --as-of-date, also the mean and sd of each metric over the dates (rolling origin)."""
    import pandas as pd

    from clv_jobs import backtest as backtest_job

    dates = sorted({parse_date(d) for d in as_of_date})
    outcomes = []
    for number, date_ in enumerate(dates, start=1):
        if len(dates) > 1:
            progress(f"rolling origin: as-of date {number} of {len(dates)} ({date_})")
        outcome = backtest_job.run_backtest(load_settings(), date_, horizon_days, work_dir, progress=progress)
        outcomes.append(outcome)
        rows = ", ".join(f"{split} {n:,}" for split, n in sorted(outcome.rows.items()))
        typer.echo(
            f"\nBacktest at {outcome.as_of_date}, horizon {outcome.horizon_days} days: train as-of dates "
            f"{outcome.train_dates[0]} .. {outcome.train_dates[1]}, valid {outcome.valid_date}; rows {rows}"
        )
        if outcome.label_horizon_days < outcome.horizon_days:
            typer.echo(
                f"Label window {outcome.label_horizon_days} days (no {outcome.horizon_days}-day training labels in "
                f"the history): every model carried to {outcome.horizon_days} days by BG/NBD (ADR 0015)"
            )
        typer.echo(f"Candidate chosen on valid: {outcome.objective}; {outcome.oracle_note}")
        table = outcome.metrics.set_index("model")[backtest_job.HEADLINE]
        typer.echo(table.to_string(float_format=lambda v: f"{v:,.3f}"))
        typer.echo(
            "candidate - bgnbd_gamma_gamma, 95 % bootstrap interval over customers: "
            + "; ".join(
                f"{r.metric} {r.difference:+,.3f} [{r.low:+,.3f}, {r.high:+,.3f}]"
                for r in outcome.versus_btyd.itertuples()
            )
        )
        typer.echo(f"metrics, the comparison and every customer's predictions: {outcome.report_dir}")
    if len(outcomes) > 1:
        summary = backtest_job.rolling_summary(outcomes)
        out = Path(load_settings().reports_dir) / f"backtest-rolling-{dates[0]}-{dates[-1]}-{horizon_days}d.csv"
        summary.to_csv(out, index=False)
        typer.echo(f"\nRolling origin over {len(outcomes)} as-of dates ({dates[0]} .. {dates[-1]}), mean ± sd:")
        cells = summary.set_index("model")
        text = pd.DataFrame(
            {
                m: cells[f"{m}_mean"].map("{:,.3f}".format) + " ± " + cells[f"{m}_sd"].map("{:,.3f}".format)
                for m in backtest_job.HEADLINE
            }
        )
        typer.echo(text.to_string())
        typer.echo(f"table: {out}")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Registered model version (or an alias) to make champion.")],
    force: Annotated[
        bool, typer.Option(help="Promote without a passed gate, shadow run or approval (needs --reason).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded in fct_model_decisions.")] = None,
) -> None:
    """Move the champion alias to VERSION: needs a passed shadow run and an approval after it,
    else --force --reason (recorded as forced_promotion). The next scoring run uses it."""
    from clv_jobs import registry

    version = registry.resolve_version(version) or version
    with lake_writer_lock():
        previous = registry.promote(load_settings().lake_dir, version, force=force, reason=reason)
    typer.echo(f"champion: version {version} (was {previous})")


@app.command()
def rollback() -> None:
    """Give the champion alias back to the previous champion (recorded as a decision)."""
    from clv_jobs import registry

    with lake_writer_lock():
        version = registry.rollback(load_settings().lake_dir)
    typer.echo(f"champion: version {version}")
