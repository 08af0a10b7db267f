"""`clv-jobs`: one CLI, verbs as subcommands (STYLE §12)."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.settings import load_settings

app = typer.Typer(
    help="clv-warehouse jobs: land data, train and evaluate, score, monitor, backtest.", no_args_is_help=True
)
import_app = typer.Typer(help="Import a public data set into the lake's raw contract.", no_args_is_help=True)
app.add_typer(import_app, name="import")
bench_app = typer.Typer(help="Benchmarks: print time and peak memory figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
quarantine_app = typer.Typer(
    help="Files and rows kept out of the warehouse: list them, quarantine a partition, release a file.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

LakeOption = Annotated[
    Path | None, typer.Option("--lake", help="Lake folder (default: $CLV_LAKE_DIR or ./lake).", show_default=False)
]


class Backend(StrEnum):
    local = "local"
    sagemaker = "sagemaker"


BackendOption = Annotated[
    Backend,
    typer.Option(
        envvar="CLV_BACKEND",
        help="Run here, or as a SageMaker job (needs the CLV_SAGEMAKER_* settings: README, Going to production).",
    ),
]
WaitOption = Annotated[
    bool, typer.Option(help="SageMaker: wait for the job and finish here; --no-wait prints the job to --attach.")
]
AttachOption = Annotated[
    str | None, typer.Option(help="SageMaker: finish a job submitted with --no-wait (wait, then as local).")
]


def _on_backend(command: str, backend: Backend, wait: bool, attach: str | None, local, submit, collect):
    """Run `local()`, or a SageMaker job: `submit()` it (or take `attach`), then `collect(job)`
    it, holding the lake's writer lock. None when the job was submitted with --no-wait (its name
    is printed)."""
    if backend is Backend.local:
        if attach:
            raise typer.BadParameter("--attach is for --backend sagemaker")
        with _writer_lock():
            return local()
    job = attach or submit()
    if not wait and not attach:
        typer.echo(f"submitted {job}; finish it with: clv-jobs {command} --backend sagemaker --attach {job}")
        return None
    with _writer_lock():
        return collect(job)


def _lake(lake: Path | None, create: bool = False) -> Path:
    """A local lake folder (the commands that write raw landings or read them with DuckDB); it
    must exist unless the command creates lakes (`create`: generate, import)."""
    from clv_jobs.lake import local_dir

    return local_dir(lake or load_settings().lake_dir, must_exist=not create)


def _writer_lock(lake: Path | str | None = None):
    """The lake's writer lock (python_jobs/clv_jobs/locking.py), for commands that write."""
    from clv_jobs.locking import writer_lock

    return writer_lock(lake or load_settings().lake_dir)


def _progress(message: str) -> None:
    typer.echo(f"[{datetime.now():%H:%M:%S}] {message}", err=True)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def generate(
    customers: Annotated[int, typer.Option(help="Number of customers (CRM sign-ups; ~95% buy).", min=1)] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 42,
    start: Annotated[str, typer.Option(help="First day of data (YYYY-MM-DD).")] = "2021-01-01",
    end: Annotated[str, typer.Option(help="Last day of data, inclusive (YYYY-MM-DD).")] = "2024-12-31",
    horizon_days: Annotated[int, typer.Option(help="Oracle horizon in days (match dbt's clv_horizon_days).")] = 365,
    oracle_months: Annotated[
        int, typer.Option(help="Write the oracle at each of the last N month ends (0: none).", min=0)
    ] = 36,
    lake: LakeOption = None,
) -> None:
    """Generate a synthetic shop and land it as the raw contract (date-partitioned Parquet)."""
    from clv_jobs.datasets import synthetic

    params = synthetic.ShopParams(start=_parse_date(start), end=_parse_date(end))
    if params.end <= params.start:
        raise typer.BadParameter("--end must be after --start")
    lake_dir = _lake(lake, create=True)
    t0 = time.perf_counter()
    shop = synthetic.generate_shop(customers, seed, params, progress=_progress)
    t1 = time.perf_counter()
    oracle_dates = synthetic.month_ends(params.start, params.end)[-oracle_months:] if oracle_months else []
    _progress(f"writing lake at {lake_dir} (oracle at {len(oracle_dates)} as-of dates)")
    partitions = synthetic.write_shop(shop, lake_dir, oracle_dates, horizon_days)
    t2 = time.perf_counter()
    for key, value in shop.counts.items():
        typer.echo(f"{key:>20}: {value:,}")
    typer.echo(f"{'partitions':>20}: {partitions}")
    typer.echo(f"generated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s -> {lake_dir}")


@import_app.command("cdnow")
def import_cdnow(
    sample: Annotated[bool, typer.Option(help="Import the 2,357-customer sample instead of the master file.")] = False,
    lake: LakeOption = None,
) -> None:
    """Import CDNOW (shipped inside the `lifetimes` distribution) into the lake."""
    from clv_jobs.datasets import importers

    tables = importers.read_cdnow(sample=sample)
    lake_dir = _lake(lake, create=True)
    _report_import(tables, importers.write_import(tables, lake_dir), lake_dir)


@import_app.command("online-retail")
def import_online_retail(
    path: Annotated[Path, typer.Argument(help="The Online Retail (I or II) export: .csv or .xlsx.", exists=True)],
    lake: LakeOption = None,
) -> None:
    """Import the UCI "Online Retail" / "Online Retail II" export you downloaded."""
    from clv_jobs.datasets import importers

    _progress(f"reading {path}")
    tables = importers.read_online_retail(path)
    lake_dir = _lake(lake, create=True)
    _report_import(tables, importers.write_import(tables, lake_dir), lake_dir)


def _report_import(imported, partitions: dict[str, int], lake_dir: Path) -> None:
    transactions, customers, events, removed = imported
    known = transactions.column("CustomerID").drop_null()
    typer.echo(f"transaction lines: {len(transactions):,} ({len(transactions) - len(known):,} without CustomerID)")
    typer.echo(f"customers:         {len(customers):,}")
    typer.echo(f"events:            {len(events):,}")
    for rule, n in removed.items():
        typer.echo(f"left out:          {n:,} lines, {rule}")
    typer.echo(f"partitions:        {partitions} -> {lake_dir}")


@app.command("check-landing")
def check_landing(lake: LakeOption = None) -> None:
    """Check every newly landed raw file against its contract before dbt reads the lake; a file
    that breaks it, or repeats one already landed, moves to the quarantine (exit 1)."""
    from clv_jobs import erasure, landing

    lake_dir = _lake(lake)
    with _writer_lock(lake_dir):
        strip = erasure.tombstone_filter(lake_dir, load_settings().dbt_target)
        report = landing.check_landing(lake_dir, landing.now_utc(), strip=strip, progress=_progress)
    typer.echo(
        f"landing: {len(report.accepted):,} new file(s) accepted, {len(report.quarantined):,} quarantined, "
        f"{report.unchanged:,} unchanged, {len(report.removed):,} removed -> {landing.ledger_path(lake_dir)}"
    )
    for path in report.restated + report.removed:
        typer.echo(f"restatement: {path} rewrites history already built (see quality.fct_restatements after dbt build)")
    for path, why in report.quarantined.items():
        typer.echo(f"error: quarantined {path}: {why}", err=True)
    if report.quarantined:
        typer.echo(
            "the build goes on without them: `clv-jobs quarantine list`, fix, then `clv-jobs quarantine release`",
            err=True,
        )
        raise typer.Exit(code=1)


@quarantine_app.command("list")
def quarantine_list(lake: LakeOption = None) -> None:
    """Quarantined files (from the landing ledger) and quarantined rows by rule (from the
    warehouse's quality.fct_quarantined_rows, after a dbt build)."""
    from clv_jobs import landing, warehouse

    ledger = landing.read_ledger(_lake(lake))
    files = ledger[ledger["status"] == "quarantined"]
    typer.echo(f"quarantined files: {len(files):,}")
    for row in files.itertuples(index=False):
        typer.echo(f"  {row.file_path}  [{row.rule_name}] {row.message}  (kept at {row.quarantine_path})")
    rows = warehouse.quarantined_rows_by_rule(load_settings())
    if rows is None:
        typer.echo("quarantined rows: no warehouse build yet (run dbt build)")
        return
    typer.echo(f"quarantined rows: {sum(int(r['quarantined_rows']) for r in rows):,}")
    for row in rows:
        count = int(row["quarantined_rows"])
        typer.echo(f"  {row['source_table']:<20} {row['rule_name']:<32} {count:>8,}  {row['source_file']}")


@quarantine_app.command("add")
def quarantine_add(
    table: Annotated[str, typer.Option(help="Raw table: transactions, customers or events.")],
    ingest_date: Annotated[str, typer.Option(help="The partition to take out (YYYY-MM-DD).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the ledger).")],
    lake: LakeOption = None,
) -> None:
    """Quarantine a whole landed partition (e.g. a day whose volume or null share failed the build)."""
    from clv_jobs import landing

    with _writer_lock(_lake(lake)):
        moved = landing.quarantine_partition(_lake(lake), table, _parse_date(ingest_date), reason, landing.now_utc())
    for path in moved:
        typer.echo(f"quarantined {path}")


@quarantine_app.command("release")
def quarantine_release(
    file_path: Annotated[str, typer.Argument(help="The file as it landed (raw/...) or its quarantine path.")],
    lake: LakeOption = None,
) -> None:
    """Put a quarantined file back where it landed; run check-landing and dbt build next."""
    from clv_jobs import landing

    with _writer_lock(_lake(lake)):
        path = landing.release(_lake(lake), file_path)
    typer.echo(f"released {path}: run `clv-jobs check-landing` then `dbt build`")


@app.command()
def erase(
    customer_id: Annotated[str, typer.Option(help="The customer to erase (CustomerID / customer_id).")],
    reason: Annotated[str, typer.Option(help="Why (e.g. the request's reference); kept with the tombstone.")],
) -> None:
    """Erase a customer from the lake (raw, quarantine, scores, every landing) and the warehouse
    (snapshots, marts), and record a tombstone so no later landing or rebuild brings them back."""
    from clv_jobs import erasure, landing

    settings = load_settings()
    with _writer_lock():
        report = erasure.erase(settings, customer_id, reason, landing.now_utc())
    typer.echo(f"erased from {len(report.lake_files):,} lake file(s), {sum(report.lake_files.values()):,} rows")
    for table, n in sorted(report.warehouse_tables.items()):
        typer.echo(f"  warehouse {table}: {n:,} rows deleted")
    typer.echo("tombstone recorded: later landings are stripped of this customer by check-landing")


@app.command("pii-key")
def pii_key() -> None:
    """Write the PII key (CLV_PII_SALT) into the warehouse's private.pii_key, where staging reads
    it; needed once per PostgreSQL or Redshift warehouse and after a key rotation (DuckDB's dbt
    plugin writes it on every run). Required on prod: the public dev salt is refused there."""
    from clv_jobs import warehouse

    typer.echo(f"PII key written to private.pii_key ({warehouse.write_pii_key(load_settings())})")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def locked(ctx: typer.Context) -> None:
    """Run a command holding the lake's writer lock, e.g. `clv-jobs locked -- dbt build` (the
    DAG's dbt steps), so it never overlaps score, monitor, train or a load."""
    import subprocess

    if not ctx.args:
        raise typer.BadParameter("give the command to run after --, e.g. clv-jobs locked -- dbt build")
    with _writer_lock():
        code = subprocess.run(ctx.args).returncode
    raise typer.Exit(code)


@app.command("load-raw")
def load_raw(
    lake: LakeOption = None,
    schema: Annotated[str, typer.Option(help="Target schema for the raw tables.")] = "raw",
) -> None:
    """Copy the lake's raw tables into PostgreSQL (the ci_postgres target cannot read Parquet)."""
    from clv_jobs import warehouse

    settings = load_settings()
    with _writer_lock(_lake(lake)):
        counts = warehouse.load_raw_to_postgres(_lake(lake), settings.pg_dsn, schema, settings.dbt_target)
    for name, n in counts.items():
        typer.echo(f"{schema}.{name}: {n:,} rows")


@app.command("load-ml")
def load_ml(
    lake: LakeOption = None,
    schema: Annotated[str, typer.Option(help="Target schema (the dbt var clv_ml_schema).")] = "ml_landing",
) -> None:
    """Copy what clv-jobs landed under lake/ml/ into PostgreSQL, before `dbt build --selector ml_marts`."""
    from clv_jobs import warehouse

    with _writer_lock(_lake(lake)):
        counts = warehouse.load_ml_to_postgres(_lake(lake), load_settings().pg_dsn, schema)
    if not counts:
        raise ValueError(f"nothing under {_lake(lake) / 'ml'}: run train, score and monitor first")
    for name, n in counts.items():
        typer.echo(f"{schema}.{name}: {n:,} rows")


@app.command("register-partitions")
def register_partitions(
    lake_uri: Annotated[str, typer.Option(help="The lake's root: s3://bucket/prefix (or a local folder).")],
    target: Annotated[str, typer.Option(help="dbt target: prod runs the statements; others print them.")] = "prod",
) -> None:
    """Register every lake partition with the Redshift Spectrum external tables (idempotent:
    ADD IF NOT EXISTS), through `dbt run-operation register_lake_partitions`."""
    import json
    import subprocess
    import sys

    from clv_jobs.lake import LakeRoot
    from clv_jobs.warehouse import ML_TABLES

    root = LakeRoot(lake_uri)
    tables = [f"raw/{name}" for name in ("transactions", "customers", "events")] + [f"ml/{n}" for n in ML_TABLES]
    partitions = {}
    for table in tables:
        values = root.partition_values(*table.split("/"))
        if values:
            partitions[table] = values
    _progress(f"{sum(map(len, partitions.values())):,} partitions in {len(partitions)} tables under {lake_uri}")
    args = json.dumps({"lake_uri": lake_uri, "partitions": partitions})
    settings = load_settings()
    command = [str(Path(sys.executable).parent / "dbt"), "run-operation", "register_lake_partitions", "--args", args]
    command += ["--target", target, "--project-dir", str(settings.dbt_project_dir)]
    command += ["--profiles-dir", str(settings.dbt_project_dir)]
    raise typer.Exit(subprocess.run(command).returncode)


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
    parsed = _parse_date(as_of_date) if as_of_date else None
    outcome = _on_backend(
        "train",
        backend,
        wait,
        attach,
        local=lambda: jobs.run_train(settings, parsed, progress=_progress, tune=budget),
        submit=lambda: jobs.submit_train_sagemaker(settings, parsed, progress=_progress, tune=budget),
        collect=lambda job: jobs.collect_train_sagemaker(settings, job, progress=_progress),
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

    with _writer_lock():
        outcome = jobs.run_evaluate(load_settings(), model_version, progress=_progress)
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
    outcome = _on_backend(
        "score",
        backend,
        wait,
        attach,
        local=lambda: jobs.run_score(settings, _parse_date(as_of_date), progress=_progress, reasons=reasons),
        submit=lambda: jobs.submit_score_sagemaker(settings, _parse_date(as_of_date), _progress, reasons),
        collect=lambda job: jobs.collect_score_sagemaker(settings, job, progress=_progress),
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

    with _writer_lock():
        outcome = jobs.run_monitor(load_settings(), _parse_date(as_of_date), progress=_progress)
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
    partition = ("ml", "monitor_runs", f"as_of_date={_parse_date(as_of_date)}")
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
        load_settings(), _parse_date(as_of_date), horizon_days, work_dir, progress=_progress
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

    with _writer_lock():
        previous = jobs.run_promote(load_settings(), version, force=force, reason=reason)
    typer.echo(f"champion: version {version} (was {previous})")


@app.command()
def rollback() -> None:
    """Give the champion alias back to the previous champion (recorded as a decision)."""
    from clv_jobs import jobs

    with _writer_lock():
        version = jobs.run_rollback(load_settings())
    typer.echo(f"champion: version {version}")


@app.command()
def summary(
    run_results: Annotated[
        list[Path], typer.Option(help="dbt run_results.json file(s) whose tests to count; repeat the option.")
    ] = [Path("target/run_results.json")],  # noqa: B006 (typer reads the default; it is never mutated)
) -> None:
    """Print what the last build produced: customers, lines, feature rows, splits, rules, tests."""
    import json

    from clv_jobs import warehouse

    settings = load_settings()
    counts = warehouse.build_summary(settings)
    typer.echo("clv-warehouse: what the build produced")
    for label, value in counts["tables"].items():
        typer.echo(f"  {label:<46} {value:>12,}")
    typer.echo("  training examples by split:     " + ", ".join(f"{k} {v:,}" for k, v in counts["splits"].items()))
    typer.echo("  cleaning rules (rows affected / rows seen):")
    for rule in counts["rules"]:
        typer.echo(
            f"    {rule['source_table'] + '.' + rule['rule_name']:<52} {rule['rule_action']:<22} "
            f"{rule['rows_affected']:>10,} / {rule['rows_in']:,}"
        )
    ml = warehouse.ml_summary(settings)
    if ml is not None and ml["evaluations"]:
        _print_champion_table(ml["champion"], ml["evaluations"])
    if ml is not None and ml["tiers"]:
        first = ml["tiers"][0]
        typer.echo(f"  scores at {first['as_of_date']} (model version {first['model_version']}), by value tier:")
        order = {"platinum": 0, "gold": 1, "silver": 2, "bronze": 3}
        for row in sorted(ml["tiers"], key=lambda r: order.get(r["value_tier"], 9)):
            typer.echo(
                f"    {row['value_tier']:<10} {int(row['customers']):>8,} customers, mean predicted 12m value "
                f"${row['predicted_clv_12m_mean']:>9,.2f}, mean churn probability {row['churn_probability_mean']:.2f}"
            )
        for row in ml["decisions"]:
            typer.echo(f"  registry: version {row['model_version']} -> {row['decision']} ({row['reasons']})")
        for row in ml["monitoring"]:
            typer.echo(
                f"  drift at {row['as_of_date']} (model version {row['model_version']}): {row['drift_status']} "
                f"({row['columns_alert']} columns alert, {row['columns_warn']} warn; predictions "
                f"{row['prediction_drift_status']})"
            )
            verdict = "retrain recommended" if row["is_retrain_recommended"] else "no retrain needed"
            typer.echo(f"  monitor decision: {verdict} ({row['reasons']})")
        for row in ml["backtests"]:
            typer.echo(
                f"  realized backtest of the scores at {row['scored_as_of_date']} (version {row['model_version']}, "
                f"{int(row['customers']):,} customers): RMSE {row['rmse']:,.1f}, normalized Gini "
                f"{row['normalized_gini']:.3f} (at training: {row['test_normalized_gini']:.3f})"
            )
        reports = sorted(settings.reports_dir.glob("model-*/model_card.md"))
        if reports:
            typer.echo(f"  model card: {reports[-1]}  (champion vs baselines table inside)")
        typer.echo("  MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db")
        typer.echo(
            "  tables: marts.fct_clv_scores, marts.dim_customer_clv, marts.rpt_clv_segments, marts.fct_feature_drift,"
            " marts.fct_model_backtest, marts.fct_monitor_runs, marts.fct_model_decisions"
        )
    existing = [path for path in run_results if path.exists()]
    if existing:
        results = [r for path in existing for r in json.loads(path.read_text())["results"]]
        statuses: dict[str, int] = {}
        for result in results:
            if result["unique_id"].startswith(("test.", "unit_test.")):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        typer.echo("  dbt tests: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
        if any(status not in {"pass"} for status in statuses):
            raise typer.Exit(code=1)


def _print_champion_table(version: str, evaluations: list[dict]) -> None:
    metrics = ["rmse", "mae", "normalized_gini", "top10_capture", "bias"]
    values = {(r["model_name"], r["metric_name"]): r["metric_value"] for r in evaluations}
    models = ["xgboost"] + sorted({r["model_name"] for r in evaluations} - {"xgboost", "oracle"})
    if ("oracle", "rmse") in values:
        models.append("oracle")
    typer.echo(f"  champion (model version {version}) vs baselines on its test as-of date:")
    typer.echo("    " + f"{'model':<20}" + "".join(f"{m:>17}" for m in metrics))
    for model in models:
        label = "xgboost (champion)" if model == "xgboost" else model
        cells = "".join(f"{values.get((model, m), float('nan')):>17,.3f}" for m in metrics)
        typer.echo(f"    {label:<20}{cells}")


@bench_app.command("features")
def bench_features(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Scale(s) to run; repeat the option for several.")
    ] = [100_000, 1_000_000],  # noqa: B006 (typer reads the default; it is never mutated)
    as_of_first: Annotated[str, typer.Option(help="First as-of date of the spine.")] = "2023-01-31",
    as_of_last: Annotated[str, typer.Option(help="Last as-of date (12 month ends by default).")] = "2023-12-31",
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the lakes and DuckDB files.")] = Path(".bench"),
) -> None:
    """Generate + dbt build at each scale; print seconds and peak memory (MB) of each step."""
    from clv_jobs import bench

    rows = bench.bench_features(customers, work_dir, load_settings().dbt_project_dir, as_of_first, as_of_last)
    header = [
        "customers",
        "transaction_lines",
        "feature_rows",
        "generate_s",
        "generate_peak_mb",
        "dbt_build_s",
        "dbt_build_peak_mb",
    ]
    typer.echo(" | ".join(header))
    for row in rows:
        typer.echo(" | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header))


def run() -> None:
    """The `clv-jobs` entry point: expected failures (bad input, missing prerequisites, a failed
    dbt build) print one message and exit 1; anything else keeps its traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        app()
    # AWS errors (no credentials or region, access denied, a bad S3 URI) say what to fix in one line.
    except (ValueError, RuntimeError, FileNotFoundError, BotoCoreError, ClientError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None


@bench_app.command("scoring")
def bench_scoring_command(
    customers: Annotated[
        int, typer.Option(help="Rows to score (the warehouse's customers, tiled).", min=1)
    ] = 1_000_000,
    as_of_date: Annotated[str, typer.Option(help="As-of date whose features are tiled.")] = "2024-12-31",
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the DuckDB file and lake.")] = Path(".bench"),
) -> None:
    """Time `clv-jobs score`'s steps at scale with the champion (run `make demo` first), with
    exact SHAP reasons and with the approximation."""
    from clv_jobs import bench

    rows = bench.bench_scoring(customers, load_settings(), as_of_date, work_dir, progress=_progress)
    typer.echo(" | ".join(rows[0]))
    for row in rows:
        typer.echo(" | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))


if __name__ == "__main__":
    run()
