"""I/O between the lake and the warehouse engines.

* ``load_raw_to_postgres``: PostgreSQL cannot read Parquet, so for the ``ci_postgres`` target the
  raw lake tables are copied into a ``raw`` schema (COPY, in bulk) with the lake's layout:
  the contract columns in order, then the ``ingest_date`` partition column.
* ``load_ml_to_postgres``: likewise what clv-jobs lands under ``lake/ml/`` (scores,
  evaluations, decisions, drift, backtests, monitor runs) into ``ml_landing``, for the ML marts.
* ``read_relation``: one bulk read of a relation as Arrow.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from clv_jobs import contracts, ml_contracts

__all__ = [
    "connect_duckdb",
    "quarantined_rows_by_rule",
    "load_raw_to_postgres",
    "load_ml_to_postgres",
    "ML_TABLES",
    "postgres_query",
    "read_relation",
    "read_mart",
    "raw_parquet_glob",
]

# lake/ml/<table>/<key>=<value>/ -> the partition key and its DuckDB type (from the ML contract).
ML_TABLES = {
    name: (table.partition[0], "date" if table.partition[1] == "date" else "varchar")
    for name, table in ml_contracts.ML_TABLES.items()
}

PG_TYPES = {
    pa.string(): "text",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
    pa.decimal128(12, 2): "numeric(12, 2)",
    pa.float64(): "double precision",
    pa.bool_(): "boolean",
}


def raw_parquet_glob(lake_dir: Path, name: str) -> str:
    return str(Path(lake_dir) / "raw" / name / "*" / "*.parquet")


def _read_raw_with_partition(lake_dir: Path, name: str) -> pa.Table:
    # DuckDB reads the Hive partitions the way dbt's DuckDB sources do.
    query = (
        f"select * from read_parquet('{raw_parquet_glob(lake_dir, name)}', hive_partitioning = true, "
        f"hive_types = {{'ingest_date': date}}, filename = true)"
    )
    with duckdb.connect() as con:
        return con.sql(query).to_arrow_table()


def load_raw_to_postgres(lake_dir: Path, dsn: str, schema: str = "raw", target: str = "ci_postgres") -> dict[str, int]:
    """Replace ``schema.<table>`` in PostgreSQL with each raw lake table (the contract columns,
    then the landed file and the partition, as DuckDB reads them) and the landing ledger, and
    write the PII key; returns row counts."""
    import psycopg2

    from clv_jobs import landing, pii

    counts = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'create schema if not exists "{schema}"')
        for name, contract in contracts.RAW_SCHEMAS.items():
            table = _read_raw_with_partition(lake_dir, name)
            fields = list(contract) + [pa.field("filename", pa.string()), pa.field("ingest_date", pa.date32())]
            table = pa.table([table.column(f.name).cast(f.type) for f in fields], schema=pa.schema(fields))
            _copy_table(cur, schema, name, table)
            counts[name] = len(table)
        ledger = pa.Table.from_pandas(landing.read_ledger(lake_dir), schema=landing.LEDGER_SCHEMA, preserve_index=False)
        _copy_table(cur, schema, "landed_files", ledger)
        counts["landed_files"] = len(ledger)
        pii.write_key_postgres(cur, target)
    return counts


def _copy_table(cur, schema: str, name: str, table: pa.Table) -> None:
    """Replace ``schema.name`` with `table` (bulk COPY of its CSV)."""
    columns = ", ".join(f'"{f.name}" {PG_TYPES[f.type]}' for f in table.schema)
    cur.execute(f'drop table if exists "{schema}"."{name}" cascade')
    cur.execute(f'create table "{schema}"."{name}" ({columns})')
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    quoted = ", ".join(f'"{f.name}"' for f in table.schema)
    cur.copy_expert(f'copy "{schema}"."{name}" ({quoted}) from stdin with (format csv)', buffer)


def load_ml_to_postgres(lake_dir: Path, dsn: str, schema: str = "ml_landing") -> dict[str, int]:
    """Replace ``schema.<table>`` with each table under ``lake/ml/`` (partition column last, as
    DuckDB's Hive reading shows it); tables not landed yet are left out of the result."""
    import psycopg2

    counts = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'create schema if not exists "{schema}"')
        for name, (key, key_type) in ML_TABLES.items():
            glob = Path(lake_dir) / "ml" / name / "*" / "*.parquet"
            if not any(glob.parent.parent.glob("*/*.parquet")):
                continue
            query = (
                f"select * from read_parquet('{glob}', hive_partitioning = true, hive_types = {{'{key}': {key_type}}})"
            )
            with duckdb.connect() as con:
                table = con.sql(query).to_arrow_table()
            # DuckDB hands back timestamps as us and strings as large or view strings: normalize.
            fields = [pa.field(f.name, _pg_arrow_type(f.type)) for f in table.schema]
            table = pa.table([table.column(f.name).cast(f.type) for f in fields], schema=pa.schema(fields))
            _copy_table(cur, schema, name, table)
            counts[name] = len(table)
    return counts


def _pg_arrow_type(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return pa.string()
    if pa.types.is_timestamp(arrow_type):
        return pa.timestamp("us")
    if pa.types.is_integer(arrow_type):
        return pa.int64()
    if pa.types.is_floating(arrow_type):
        return pa.float64()
    if arrow_type in PG_TYPES:
        return arrow_type
    raise ValueError(f"load_ml_to_postgres: no PostgreSQL type for Arrow {arrow_type}")


def postgres_query(dsn: str, query: str) -> pa.Table:
    """Run a query on PostgreSQL and return its rows as Arrow (one round trip)."""
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query)
        names = [column.name for column in cur.description]
        rows = cur.fetchall()
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})


def connect_duckdb(path: Path, read_only: bool = True, wait_seconds: float | None = None):
    """Open the DuckDB warehouse; while another process (dbt, a BI tool) holds its file lock,
    retry with backoff for up to `wait_seconds` (default `CLV_DUCKDB_LOCK_WAIT_SECONDS`, 60),
    then fail in one line naming the file and the holder DuckDB reports."""
    import os
    import time

    if not Path(path).exists():
        raise FileNotFoundError(f"no DuckDB warehouse at {path} (CLV_DUCKDB_PATH): run dbt build first")
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("CLV_DUCKDB_LOCK_WAIT_SECONDS", "60"))
    deadline, delay = time.monotonic() + wait_seconds, 0.25
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                holder = str(exc).split("Conflicting lock is held in", 1)[-1].strip().splitlines()[0]
                raise RuntimeError(
                    f"the DuckDB warehouse {path} stayed locked for {wait_seconds:.0f} s by {holder}; "
                    "wait for that process (often dbt build) and retry"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 5)


def read_relation(relation: str, target: str, duckdb_path: Path | None = None, dsn: str | None = None) -> pa.Table:
    """Read a whole relation (``schema.table``) in one query, as Arrow."""
    query = f"select * from {relation}"
    if target in {"dev", "ci"}:
        with connect_duckdb(duckdb_path) as con:
            return con.sql(query).to_arrow_table()
    if target == "ci_postgres":
        return postgres_query(dsn, query)
    if target == "prod":
        from clv_jobs import redshift

        return redshift.unload(query)
    raise ValueError(f"read_relation: unsupported target {target!r}")


def write_pii_key(settings) -> str:
    """Write `private.pii_key` on the target's warehouse (DuckDB's dbt plugin and load-raw do it
    too); returns where. The salt travels as a bound parameter only."""
    from clv_jobs import pii

    if settings.dbt_target in {"dev", "ci"}:
        path = Path(settings.duckdb_path)
        con = connect_duckdb(path, read_only=False) if path.exists() else duckdb.connect(str(path))
        with con:
            pii.write_key_duckdb(con, settings.dbt_target)
        return str(settings.duckdb_path)
    if settings.dbt_target == "ci_postgres":
        import psycopg2

        connection = psycopg2.connect(settings.pg_dsn)
    elif settings.dbt_target == "prod":
        from clv_jobs import redshift

        connection = redshift.connect()
    else:
        raise ValueError(f"write_pii_key: unsupported target {settings.dbt_target!r}")
    try:
        with connection.cursor() as cur:
            pii.write_key_postgres(cur, settings.dbt_target)
        connection.commit()
    finally:
        connection.close()
    return f"target {settings.dbt_target}"


def build_summary(settings) -> dict:
    """Row counts of the main tables, the split sizes and the cleaning-rule counts."""
    relations = {
        "customers (dim_customers)": "marts.dim_customers",
        "transaction lines landed (raw)": "staging.stg_shop__transactions",
        "transaction lines quarantined": "quality.fct_quarantined_rows",
        "files quarantined": "(select * from quality.fct_landed_files where status = 'quarantined') as q",
        "feature rows (fct_customer_features)": "marts.fct_customer_features",
        "label rows (fct_customer_labels)": "marts.fct_customer_labels",
        "training examples (fct_clv_training_examples)": "marts.fct_clv_training_examples",
    }
    tables = {}
    for label, relation in relations.items():
        tables[label] = (
            read_relation(
                f"(select count(*) as n from {relation}) as counted",
                settings.dbt_target,
                settings.duckdb_path,
                settings.pg_dsn,
            )
            .column("n")[0]
            .as_py()
        )
    raw_lines = tables.pop("transaction lines landed (raw)")
    quarantined = {key: tables.pop(key) for key in ("transaction lines quarantined", "files quarantined")}
    rules = read_relation(
        "quality.rpt_staging_rule_counts", settings.dbt_target, settings.duckdb_path, settings.pg_dsn
    ).to_pylist()
    null_rule = next((r for r in rules if r["rule_name"] == "null_customer_id"), None)
    landed = int(null_rule["rows_in"]) if null_rule else raw_lines
    tables = {
        "transaction lines landed": landed,
        "transaction lines published (known customers)": raw_lines,
        **quarantined,
        **tables,
    }
    splits = read_relation(
        "(select split, count(*) as n from marts.fct_clv_training_examples group by split order by split) as s",
        settings.dbt_target,
        settings.duckdb_path,
        settings.pg_dsn,
    ).to_pylist()
    for rule in rules:
        rule["rows_in"], rule["rows_affected"] = int(rule["rows_in"]), int(rule["rows_affected"])
    return {"tables": tables, "splits": {row["split"]: int(row["n"]) for row in splits}, "rules": rules}


def ml_summary(settings) -> dict | None:
    """Scores by tier at the latest scored as-of date, the registry decisions, and the latest
    monitor run and its backtests, when the ML marts exist; None before the first
    `dbt build --selector ml_marts`."""

    def rows(relation: str) -> list[dict]:
        return read_relation(relation, settings.dbt_target, settings.duckdb_path, settings.pg_dsn).to_pylist()

    try:
        tiers = rows(
            "(select as_of_date, model_version, value_tier, customers, predicted_clv_mean, churn_probability_mean"
            " from marts.rpt_clv_segments where as_of_date = (select max(as_of_date) from marts.rpt_clv_segments))"
            " as s"
        )
        decisions = rows(
            "(select model_version, decision, reasons from marts.fct_model_decisions order by decided_at) as d"
        )
        from clv_jobs.registry import CROWNING_ACTIONS

        crowned = [r for r in decisions if r["decision"] in CROWNING_ACTIONS]
        evaluations = []
        if crowned:
            evaluations = rows(
                "(select model_name, metric_name, metric_value from marts.fct_model_evaluations"
                f" where slice_name = 'all' and model_version = '{crowned[-1]['model_version']}') as e"
            )
        monitoring = rows(
            "(select as_of_date, model_version, drift_status, prediction_drift_status, columns_warn, columns_alert,"
            " is_retrain_recommended, reasons from marts.fct_monitor_runs"
            " where as_of_date = (select max(as_of_date) from marts.fct_monitor_runs)) as m"
        )
        backtests = rows(
            "(select scored_as_of_date, model_version, customers, rmse, normalized_gini, test_normalized_gini"
            " from marts.fct_model_backtest"
            " where monitored_as_of_date = (select max(monitored_as_of_date) from marts.fct_model_backtest)"
            " order by scored_as_of_date) as b"
        )
    except _missing_table_errors():
        return None
    return {
        "tiers": tiers,
        "decisions": decisions,
        "champion": crowned[-1]["model_version"] if crowned else None,
        "evaluations": evaluations,
        "monitoring": monitoring,
        "backtests": backtests,
    }


def _missing_table_errors() -> tuple[type[Exception], ...]:
    import psycopg2.errors

    return (duckdb.CatalogException, psycopg2.errors.UndefinedTable)


def quarantined_rows_by_rule(settings) -> list[dict] | None:
    """Quarantined rows per table, rule and landed file (None before the first dbt build)."""
    return _rows_or_none(
        settings,
        "(select source_table, rule_name, source_file_name as source_file, count(*) as quarantined_rows"
        " from quality.fct_quarantined_rows group by 1, 2, 3 order by 1, 2, 3) as q",
    )


def _rows_or_none(settings, relation: str) -> list[dict] | None:
    """The rows of a relation or aliased query; None when it was never built."""
    try:
        return read_relation(relation, settings.dbt_target, settings.duckdb_path, settings.pg_dsn).to_pylist()
    except (*_missing_table_errors(), FileNotFoundError):
        return None


def as_of_dates_built_since(settings, since: datetime) -> list[dict] | None:
    """Per incremental model keyed by as-of date (ADR 0017): the dates it holds and how many of
    them were built at or after `since` (UTC). None before the first build."""
    moment = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return _rows_or_none(
        settings,
        f"(select model_name, sum(case when built_at >= cast('{moment}' as timestamp) then 1 else 0 end)"
        " as built, count(*) as held from intermediate.int_as_of_date_builds group by 1 order by 1) as b",
    )


def newest_as_of_date(settings, mart: str, where: str = "true"):
    """The newest `as_of_date` of `mart` (e.g. "marts.fct_customer_features") among rows matching
    `where`, as a date; None when there is none."""
    import pandas as pd  # read_mart's result; the module itself reads Arrow

    frame = read_mart(settings, f"(select max(as_of_date) as newest from {mart} where {where}) as t")
    value = frame["newest"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def read_mart(settings, relation: str):
    """One bulk read of a mart (or a parenthesised query aliased as a relation), as pandas; a
    mart that was never built fails in one line naming it."""
    try:
        return read_relation(relation, settings.dbt_target, settings.duckdb_path, settings.pg_dsn).to_pandas()
    except _missing_table_errors() as error:
        what = relation if not relation.startswith("(") else "a mart it reads"
        raise ValueError(
            f"{what} is not in the warehouse (target {settings.dbt_target}): run `clv-jobs dbt build` first, "
            f"and check that it passed ({str(error).splitlines()[0]})"
        ) from None
