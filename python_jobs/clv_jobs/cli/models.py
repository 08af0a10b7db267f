"""`clv-jobs` commands of the model's life: train, evaluate, score, monitor, backtest, and the
registry's promote and rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.cli._common import (
    AttachOption,
    Backend,
    BackendOption,
    LakeOption,
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
    from clv_jobs import jobs
    from clv_jobs.train import TuneBudget

    settings = load_settings()
    budget = TuneBudget(tune_trials, tune_timeout) if tune else None
    parsed = parse_date(as_of_date) if as_of_date else None
    outcome = on_backend(
        "train",
        backend,
        wait,
        attach,
        local=lambda: jobs.run_train(settings, parsed, progress=progress, tune=budget),
        submit=lambda: jobs.submit_train_sagemaker(settings, parsed, progress=progress, tune=budget),
        collect=lambda job: jobs.collect_train_sagemaker(settings, job, progress=progress),
    )
    if outcome is None:
        return
    table = outcome.metrics.set_index("model")
    typer.echo(f"\nTest metrics (MLflow run {outcome.run_id}, model version {outcome.model_version}):")
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
    from clv_jobs import jobs

    with lake_writer_lock():
        outcome = jobs.run_evaluate(load_settings(), model_version, progress=progress)
    table = outcome.metrics.set_index("model")
    typer.echo(
        f"\nModel version {outcome.model_version} on the test as-of date {outcome.test_as_of_date} "
        f"(MLflow run {outcome.run_id}):"
    )
    typer.echo(table.to_string(float_format=lambda v: f"{v:,.3f}"))
    fairness = outcome.fairness
    typer.echo(f"disparate-impact ratio across {fairness['slice']}: {fairness['ratio']:.3f}")
    typer.echo(f"plots and tables: {outcome.report_dir}")


@app.command()
def score(
    as_of_date: Annotated[
        str | None, typer.Option(help="Score customers as of this month end (YYYY-MM-DD); not with --attach.")
    ] = None,
    reasons: Annotated[
        str,
        typer.Option(
            help="Top-3 reasons from exact TreeSHAP ('shap') or XGBoost's ~10x faster approximation ('approx')."
        ),
    ] = "shap",
    backend: BackendOption = Backend.local,
    wait: WaitOption = True,
    attach: AttachOption = None,
) -> None:
    """Score every customer at the as-of date with the champion; write lake/ml/scores/as_of_date=D/."""
    from clv_jobs import jobs

    settings = load_settings()
    if (as_of_date is None) == (attach is None):
        raise typer.BadParameter("give --as-of-date, or --attach with --backend sagemaker")
    outcome = on_backend(
        "score",
        backend,
        wait,
        attach,
        local=lambda: jobs.run_score(settings, parse_date(as_of_date), progress=progress, reasons=reasons),
        submit=lambda: jobs.submit_score_sagemaker(settings, parse_date(as_of_date), progress, reasons),
        collect=lambda job: jobs.collect_score_sagemaker(settings, job, progress=progress),
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
    """Drift (PSI, KS) of features and scores vs the training baseline, realized backtest of
    matured scores, retrain decision; lands lake/ml/{drift,backtests,monitor_runs}/as_of_date=D/."""
    from clv_jobs import jobs

    with lake_writer_lock():
        outcome = jobs.run_monitor(load_settings(), parse_date(as_of_date), progress=progress)
    drift = outcome.drift.sort_values("psi", ascending=False).set_index("feature_name")
    typer.echo(f"\nDrift at {outcome.as_of_date} against model version {outcome.model_version}'s training baseline:")
    typer.echo(drift[["feature_kind", "psi", "ks_statistic", "status"]].to_string(float_format=lambda v: f"{v:.3f}"))
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
    lake: LakeOption = None,
) -> None:
    """Exit 0 when `monitor` recommended retraining at the date, 99 when it did not (Airflow
    skips a task that exits 99), 1 when the date was not monitored."""

    from clv_jobs.lake import LakeRoot

    root = LakeRoot(lake or load_settings().lake_dir)
    partition = ("ml", "monitor_runs", f"as_of_date={parse_date(as_of_date)}")
    if not root.exists(*partition):
        raise ValueError(
            f"no monitor run at {as_of_date} ({root.uri(*partition)}): run `clv-jobs monitor --as-of-date {as_of_date}`"
        )
    run = root.read(*partition).iloc[0]
    typer.echo(f"retrain {'recommended' if run['retrain'] else 'not needed'}: {run['reasons']}")
    if not run["retrain"]:
        raise typer.Exit(code=99)


@app.command()
def backtest(
    as_of_date: Annotated[str, typer.Option(help="Pretend today is this month end (YYYY-MM-DD).")],
    horizon_days: Annotated[int, typer.Option(help="Predict revenue over (D, D + H].", min=1)] = 365,
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the backtest's DuckDB warehouse.")] = Path(
        ".backtest"
    ),
) -> None:
    """Train and evaluate as of an earlier date on the loaded lake (only data on or before D goes
    into features and training); print the model and every baseline side by side."""
    from clv_jobs import backtest as backtest_job

    outcome = backtest_job.run_backtest(
        load_settings(), parse_date(as_of_date), horizon_days, work_dir, progress=progress
    )
    rows = ", ".join(f"{split} {n:,}" for split, n in sorted(outcome.rows.items()))
    typer.echo(
        f"\nBacktest at {outcome.as_of_date}, horizon {outcome.horizon_days} days: train as-of dates "
        f"{outcome.train_dates[0]} .. {outcome.train_dates[1]}, valid {outcome.valid_date}; rows {rows}"
    )
    typer.echo(f"XGBoost objective chosen on valid: {outcome.objective}; {outcome.oracle_note}")
    table = outcome.metrics.set_index("model")[backtest_job.HEADLINE]
    typer.echo(table.to_string(float_format=lambda v: f"{v:,.3f}"))
    typer.echo(f"metrics: {outcome.report_dir / 'metrics.csv'}")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Registered model version to make champion.")],
    force: Annotated[bool, typer.Option(help="Promote a version that failed its gates (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded in fct_model_decisions.")] = None,
) -> None:
    """Move the champion alias to VERSION (recorded as a decision)."""
    from clv_jobs import jobs

    with lake_writer_lock():
        previous = jobs.run_promote(load_settings(), version, force=force, reason=reason)
    typer.echo(f"champion: version {version} (was {previous})")


@app.command()
def rollback() -> None:
    """Give the champion alias back to the previous champion (recorded as a decision)."""
    from clv_jobs import jobs

    with lake_writer_lock():
        version = jobs.run_rollback(load_settings())
    typer.echo(f"champion: version {version}")
