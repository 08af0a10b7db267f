"""`clv-jobs` commands that bring data in and keep the lake honest: generate, import, the
landing guard and its quarantine, erasure, the PII key, loads into PostgreSQL, Spectrum
partitions, and `locked` for anything that must not overlap a writer."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.cli._common import (
    LakeOption,
    app,
    import_app,
    lake_folder,
    lake_writer_lock,
    parse_date,
    progress,
    quarantine_app,
)
from clv_jobs.settings import load_settings


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
    spend_shift: Annotated[
        str | None,
        typer.Option(help="DATE:FACTOR - from DATE on, every order is worth FACTOR times as much (a shift)."),
    ] = None,
    lake: LakeOption = None,
) -> None:
    """Generate a synthetic shop and land it as the raw contract (date-partitioned Parquet)."""
    from clv_jobs import dates
    from clv_jobs.datasets import synthetic, synthetic_lake

    shift = {}
    if spend_shift:
        day, _, factor = spend_shift.partition(":")
        try:
            shift = {"spend_shift_date": date.fromisoformat(day), "spend_shift_multiplier": float(factor)}
        except ValueError:
            raise typer.BadParameter(
                f"--spend-shift {spend_shift!r}: expected DATE:FACTOR, e.g. 2024-01-01:2"
            ) from None
        if not (
            parse_date(start) < shift["spend_shift_date"] <= parse_date(end) and shift["spend_shift_multiplier"] > 0
        ):
            raise typer.BadParameter(f"--spend-shift {spend_shift!r}: a date within the data and a factor above 0")
    params = synthetic.ShopParams(start=parse_date(start), end=parse_date(end), **shift)
    if params.end <= params.start:
        raise typer.BadParameter("--end must be after --start")
    lake_dir = lake_folder(lake, create=True)
    t0 = time.perf_counter()
    shop = synthetic.generate_shop(customers, seed, params, progress=progress)
    t1 = time.perf_counter()
    oracle_dates = dates.month_ends(params.start, params.end)[-oracle_months:] if oracle_months else []
    progress(f"writing lake at {lake_dir} (oracle at {len(oracle_dates)} as-of dates)")
    partitions = synthetic_lake.write_shop(shop, lake_dir, oracle_dates, horizon_days)
    t2 = time.perf_counter()
    for key, value in shop.counts.items():
        typer.echo(f"{key:>20}: {value:,}")
    typer.echo(f"{'partitions':>20}: {partitions}")
    typer.echo(f"generated in {t1 - t0:.1f}s, written in {t2 - t1:.1f}s -> {lake_dir}")


@app.command("land-next-day")
def land_next_day(lake: LakeOption = None) -> None:
    """Land one more day into a synthetic lake: the newest day's files of each raw table again,
    dated one day later with new ids (to try the nightly path: check-landing, dbt build, score)."""
    from clv_jobs.datasets import synthetic_lake

    lake_dir = lake_folder(lake)
    with lake_writer_lock(lake_dir):
        day = synthetic_lake.land_next_day(lake_dir)
    if day is None:
        raise typer.BadParameter(f"{lake_dir}: no raw table has a landed file to copy; run `clv-jobs generate` first")
    typer.echo(f"landed {day} into {lake_dir}/raw (one file per table); next: clv-jobs check-landing")


@import_app.command("cdnow")
def import_cdnow(
    sample: Annotated[bool, typer.Option(help="Import the 2,357-customer sample instead of the master file.")] = False,
    lake: LakeOption = None,
) -> None:
    """Import CDNOW (shipped inside the `lifetimes` distribution) into the lake."""
    from clv_jobs.datasets import importers

    tables = importers.read_cdnow(sample=sample)
    lake_dir = lake_folder(lake, create=True)
    _report_import(tables, importers.write_import(tables, lake_dir), lake_dir)


@import_app.command("online-retail")
def import_online_retail(
    path: Annotated[Path, typer.Argument(help="The Online Retail (I or II) export: .csv or .xlsx.", exists=True)],
    lake: LakeOption = None,
) -> None:
    """Import the UCI "Online Retail" / "Online Retail II" export you downloaded."""
    from clv_jobs.datasets import importers

    progress(f"reading {path}")
    tables = importers.read_online_retail(path)
    lake_dir = lake_folder(lake, create=True)
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
    that breaks it, or repeats one already landed, moves to the quarantine (exit 1, a high alert);
    a late or changed file is a restatement (a low alert)."""
    from clv_jobs import alerts, erasure, landing, registry

    lake_dir = lake_folder(lake)
    with lake_writer_lock(lake_dir):
        strip = erasure.tombstone_filter(lake_dir, load_settings().dbt_target)
        report = landing.check_landing(lake_dir, registry.now_utc(), strip=strip, progress=progress)
    typer.echo(
        f"landing: {len(report.accepted):,} new file(s) accepted, {len(report.quarantined):,} quarantined, "
        f"{report.unchanged:,} unchanged, {len(report.removed):,} removed -> {landing.ledger_path(lake_dir)}"
    )
    for path in report.restated + report.removed:
        typer.echo(f"restatement: {path} rewrites history already built (see quality.fct_restatements after dbt build)")
    for path, why in report.quarantined.items():
        typer.echo(f"error: quarantined {path}: {why}", err=True)
    # A quarantined file is a critical data-quality failure (high); a restatement is not (low).
    raised = [alerts.Alert("high", "file_quarantined", f"{p}: {why}") for p, why in report.quarantined.items()]
    raised += [alerts.Alert("low", "history_restated", f"{p} rewrites history already built") for p in report.restated]
    raised += [alerts.Alert("low", "history_restated", f"{p} was removed after it was built") for p in report.removed]
    alerts.raise_alerts(lake_dir, raised, raised_by="check-landing")
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

    ledger = landing.read_ledger(lake_folder(lake))
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
    from clv_jobs import landing, registry

    with lake_writer_lock(lake_folder(lake)):
        moved = landing.quarantine_partition(
            lake_folder(lake), table, parse_date(ingest_date), reason, registry.now_utc()
        )
    for path in moved:
        typer.echo(f"quarantined {path}")


@quarantine_app.command("release")
def quarantine_release(
    file_path: Annotated[str, typer.Argument(help="The file as it landed (raw/...) or its quarantine path.")],
    lake: LakeOption = None,
) -> None:
    """Put a quarantined file back where it landed; run check-landing and dbt build next."""
    from clv_jobs import landing

    with lake_writer_lock(lake_folder(lake)):
        path = landing.release(lake_folder(lake), file_path)
    typer.echo(f"released {path}: run `clv-jobs check-landing` then `dbt build`")


@app.command()
def erase(
    customer_id: Annotated[str, typer.Option(help="The customer to erase (CustomerID / customer_id).")],
    reason: Annotated[str, typer.Option(help="Why (e.g. the request's reference); kept with the tombstone.")],
) -> None:
    """Erase a customer from the lake (raw, quarantine, scores, every landing) and the warehouse
    (snapshots, marts), and record a tombstone so no later landing or rebuild brings them back."""
    from clv_jobs import erasure, registry

    settings = load_settings()
    with lake_writer_lock():
        report = erasure.erase(settings, customer_id, reason, registry.now_utc())
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
    """Run a command holding the lake's writer lock, e.g. `clv-jobs locked -- make report`, so it
    never overlaps score, monitor, train or a load (for dbt itself: `clv-jobs dbt ...`)."""
    if not ctx.args:
        raise typer.BadParameter("give the command to run after --, e.g. clv-jobs locked -- dbt build")
    _run_locked(ctx.args)


def _run_locked(command: list[str], after=None) -> None:
    """Run `command` holding the lake's writer lock, then `after(started, code)` still holding it;
    exit with the command's code."""
    import subprocess

    with lake_writer_lock():
        started = time.time()
        code = subprocess.run(command).returncode
        if after is not None:
            after(started, code)
    raise typer.Exit(code)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def dbt(ctx: typer.Context) -> None:
    """Run the project's dbt holding the lake's writer lock, e.g. `clv-jobs dbt build --selector
    ml_marts` (what the Airflow DAGs run), so a build never overlaps score, monitor or train."""
    from clv_jobs import dbt_cli, pipeline_runs
    from clv_jobs.cli.dashboards import publish_if_duckdb

    if not ctx.args:
        raise typer.BadParameter("give the dbt command, e.g. clv-jobs dbt build")
    command = dbt_cli.dbt_command(*ctx.args)

    def after_build(started: float, code: int) -> None:
        # dbt's own record of each node (status, failures, time), when this invocation wrote one.
        settings = load_settings()
        path = pipeline_runs.run_results_path(ctx.args)
        if path.exists() and path.stat().st_mtime >= started:
            rows = pipeline_runs.dbt_rows(pipeline_runs.read_run_results(path) or {}, ["dbt", *ctx.args])
            pipeline_runs.record(settings.lake_dir, rows, "dbt", lambda m: typer.echo(m, err=True))
        # Only a good build is published: the dashboards keep the last good state.
        if code == 0 and ctx.args[0] in ("build", "run", "seed", "snapshot"):
            publish_if_duckdb(settings)
        if code == 0 and ctx.args[0] in ("build", "run") and settings.dbt_target != "prod":
            _echo_as_of_dates_built(settings, started)

    _run_locked(command, after_build)


def _echo_as_of_dates_built(settings, started: float) -> None:
    """What the incremental build did (ADR 0017): per model keyed by as-of date, how many of its
    dates this build wrote."""
    from datetime import UTC, datetime

    from clv_jobs import warehouse

    # dbt's run_started_at is stamped in whole seconds after `started`.
    rows = warehouse.as_of_dates_built_since(settings, datetime.fromtimestamp(int(started), UTC))
    if rows:
        built = ", ".join(f"{r['model_name']} {r['built']} of {r['held']}" for r in rows)
        typer.echo(f"as-of dates built (the rest unchanged since their last build): {built}", err=True)


@app.command()
def freshness(
    as_of_date: Annotated[
        str | None, typer.Option(help="Judge the landings at the end of this day (YYYY-MM-DD); default: now.")
    ] = None,
    ml: Annotated[
        bool,
        typer.Option(help="Check what the nightly run lands itself (scores, drift, monitor and pipeline runs)."),
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(help="dbt source selectors; default: every raw landing and the ledger (--ml: the ML ones)."),
    ] = None,
) -> None:
    """Check the sources' freshness (dbt source freshness): one line per late or stale source; a
    stale one (past its error limit) raises a high-tier alert and exits 1, so the nightly run
    stops before scoring (--ml: after publishing, the published marts have fallen behind); a late
    one (past its warning limit) a low-tier alert."""
    import subprocess

    from clv_jobs import alerts, dbt_cli, ml_contracts
    from clv_jobs import freshness as fresh

    settings = load_settings()
    day = parse_date(as_of_date) if as_of_date else None
    target = Path(settings.dbt_target_path)
    sources_json = target / "sources.json"
    sources_json.unlink(missing_ok=True)
    command = dbt_cli.dbt_command(
        "source",
        "freshness",
        "--select",
        *(select or (fresh.ML_SOURCES if ml else fresh.LANDING_SOURCES)),
        "--target-path",
        str(target),
        dbt_vars=fresh.freshness_vars(day),
    )
    with lake_writer_lock():
        if ml:
            ml_contracts.ensure_tables(settings.lake_dir)  # a table nothing wrote yet: never landed
        run = subprocess.run(command, capture_output=True, text=True)
    if not sources_json.exists():
        typer.echo((run.stdout + run.stderr)[-3000:], err=True)
        raise typer.Exit(run.returncode or 1)
    results = fresh.read_sources_json(sources_json)
    when = f"at the end of {day}" if day else "now"
    typer.echo(f"freshness of {len(results)} sources {when}:")
    for result in results:
        typer.echo(f"  {result.status:>12}  {result.line()}")
    consequence = "the published marts are behind" if ml else "scoring stopped"
    raised = fresh.alerts_for(results, consequence)
    if raised:
        alerts.raise_alerts(settings.lake_dir, raised, raised_by="freshness", as_of_date=day)
    stale = [r.source for r in results if r.status in ("error", "runtime error")]
    if stale:
        then = "the published marts are behind" if ml else "stopping before the build and scoring"
        typer.echo(f"stale source(s): {', '.join(stale)}: {then}", err=True)
        raise typer.Exit(1)


@app.command()
def contracts(
    write: Annotated[bool, typer.Option(help="Rewrite the Spectrum macro from the ML landing contract.")] = False,
) -> None:
    """Check that macros/redshift/clv_ml_lake_tables.sql is the ML landing contract
    (python_jobs/clv_jobs/ml_contracts.py) rendered; --write renders it. Exit 1 when they differ."""
    from clv_jobs import ml_contracts

    path = load_settings().dbt_project_dir / ml_contracts.SPECTRUM_MACRO_PATH
    rendered = ml_contracts.render_spectrum_macro()
    if write:
        path.write_text(rendered)
        typer.echo(f"wrote {path} ({len(ml_contracts.ML_TABLES)} tables)")
    elif not path.exists() or path.read_text() != rendered:
        typer.echo(f"{path}: differs from the ML landing contract; run `clv-jobs contracts --write`", err=True)
        raise typer.Exit(1)
    else:
        typer.echo(f"{path}: matches the ML landing contract ({len(ml_contracts.ML_TABLES)} tables)")


@app.command("load-raw")
def load_raw(
    lake: LakeOption = None,
    schema: Annotated[str, typer.Option(help="Target schema for the raw tables.")] = "raw",
) -> None:
    """Copy the lake's raw tables into PostgreSQL (the ci_postgres target cannot read Parquet)."""
    from clv_jobs import warehouse

    settings = load_settings()
    with lake_writer_lock(lake_folder(lake)):
        counts = warehouse.load_raw_to_postgres(lake_folder(lake), settings.pg_dsn, schema, settings.dbt_target)
    for name, n in counts.items():
        typer.echo(f"{schema}.{name}: {n:,} rows")


@app.command("load-ml")
def load_ml(
    lake: LakeOption = None,
    schema: Annotated[str, typer.Option(help="Target schema (the dbt var clv_ml_schema).")] = "ml_landing",
) -> None:
    """Copy what clv-jobs landed under lake/ml/ into PostgreSQL, before `dbt build --selector ml_marts`."""
    from clv_jobs import warehouse

    with lake_writer_lock(lake_folder(lake)):
        counts = warehouse.load_ml_to_postgres(lake_folder(lake), load_settings().pg_dsn, schema)
    if not counts:
        raise ValueError(f"nothing under {lake_folder(lake) / 'ml'}: run train, score and monitor first")
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

    from clv_jobs import dbt_cli
    from clv_jobs.contracts import RAW_SCHEMAS
    from clv_jobs.lake import LakeRoot
    from clv_jobs.ml_contracts import ML_TABLES

    root = LakeRoot(lake_uri)
    tables = [f"raw/{name}" for name in RAW_SCHEMAS] + [f"ml/{n}" for n in ML_TABLES]
    partitions = {}
    for table in tables:
        values = root.partition_values(*table.split("/"))
        if values:
            partitions[table] = values
    progress(f"{sum(map(len, partitions.values())):,} partitions in {len(partitions)} tables under {lake_uri}")
    args = json.dumps({"lake_uri": lake_uri, "partitions": partitions})
    settings = load_settings()
    command = dbt_cli.dbt_command(
        "run-operation", "register_lake_partitions", "--args", args, target=target, project_dir=settings.dbt_project_dir
    )
    raise typer.Exit(subprocess.run(command).returncode)
