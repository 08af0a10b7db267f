"""Erasure: remove one customer from the lake and the warehouse, and keep them out.

`erase` rewrites every lake file that holds the customer (raw landings, the quarantine, scores
and every other ML landing, the oracle, SageMaker staging) atomically, deletes their rows from
every warehouse table with a customer id column (snapshots and marts included), and records a
tombstone: the customer's keyed hash (`pii.keyed_hash`), never the id itself. The landing guard
strips tombstoned customers from every later landing, so no landing or rebuild brings them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clv_jobs import lake, landing, pii

__all__ = ["ID_COLUMNS", "ErasureReport", "erase", "tombstone_filter", "read_tombstones"]

# Columns that hold a customer id in what the lake and the warehouse keep.
ID_COLUMNS = ("customer_id", "CustomerID")

TOMBSTONES = pa.schema([("customer_key", pa.string()), ("reason", pa.string()), ("erased_at", pa.timestamp("us"))])


def _tombstone_dir(lake_dir: Path) -> Path:
    return Path(lake_dir) / "landing" / "erasures"


def read_tombstones(lake_dir: Path) -> pa.Table:
    path = _tombstone_dir(lake_dir) / "part-0.parquet"
    return pq.read_table(path) if path.exists() else TOMBSTONES.empty_table()


def _id_column(schema: pa.Schema) -> str | None:
    return next((name for name in ID_COLUMNS if name in schema.names), None)


def tombstone_filter(lake_dir: Path, target: str = "dev"):
    """`strip(table, name) -> (table, rows_removed)` that drops tombstoned customers' rows, for
    the landing guard; None when nobody has been erased."""
    keys = set(read_tombstones(lake_dir).column("customer_key").to_pylist())
    if not keys:
        return None

    def strip(table: pa.Table, name: str) -> tuple[pa.Table, int]:
        column = _id_column(table.schema)
        if column is None:
            return table, 0
        ids = table.column(column).to_pylist()
        keep = pa.array([value is None or pii.keyed_hash(value, target) not in keys for value in ids])
        kept = table.filter(keep)
        return kept, len(table) - len(kept)

    return strip


@dataclass
class ErasureReport:
    lake_files: dict[str, int] = field(default_factory=dict)  # file -> rows removed
    warehouse_tables: dict[str, int] = field(default_factory=dict)  # table -> rows deleted


def _lake_parquet_files(lake_dir: Path) -> list[Path]:
    return sorted(
        f
        for f in Path(lake_dir).rglob("*.parquet")
        if not any(lake.is_hidden(part) for part in f.relative_to(lake_dir).parts)
    )


def _erase_from_lake(lake_dir: Path, customer_id: str) -> dict[str, int]:
    removed = {}
    for path in _lake_parquet_files(lake_dir):
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowException, OSError):
            continue  # an unreadable quarantined file holds nothing we can read, or rewrite
        column = _id_column(schema)
        if column is None:
            continue
        ids = pq.read_table(path, columns=[column]).column(column)
        hits = pc.sum(pc.equal(ids, customer_id)).as_py() or 0
        if not hits:
            continue
        table = pq.read_table(path)
        keep = pc.fill_null(pc.not_equal(table.column(column), customer_id), True)
        lake.replace_file(table.filter(keep), path)
        removed[str(path.relative_to(lake_dir))] = hits
    return removed


def _update_ledger(lake_dir: Path, removed: dict[str, int]) -> None:
    ledger = landing.read_ledger(lake_dir)
    for relative, rows in removed.items():
        mask = (ledger["file_path"] == relative) & (ledger["status"] == "accepted")
        if not mask.any():
            continue
        path = Path(lake_dir) / relative
        stat = path.stat()
        ledger.loc[mask, "rows_landed"] = ledger.loc[mask, "rows_landed"] - rows
        ledger.loc[mask, "rows_erased"] = ledger.loc[mask, "rows_erased"] + rows
        ledger.loc[mask, "content_sha256"] = landing.sha256_file(path)
        ledger.loc[mask, "file_bytes"] = stat.st_size
        ledger.loc[mask, "mtime_ns"] = stat.st_mtime_ns
    landing.write_ledger(lake_dir, ledger)


def _erase_from_duckdb(con, customer_id: str) -> dict[str, int]:
    tables = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "join information_schema.tables using (table_catalog, table_schema, table_name) "
        f"where table_type = 'BASE TABLE' and column_name in {ID_COLUMNS}"
    ).fetchall()
    deleted = {}
    for schema, table, column in tables:
        n = con.execute(f'delete from "{schema}"."{table}" where "{column}" = ?', [customer_id]).fetchone()[0]
        if n:
            deleted[f"{schema}.{table}"] = n
    return deleted


def _erase_from_postgres(cur, customer_id: str) -> dict[str, int]:
    cur.execute(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' and c.column_name in %s and c.table_schema not in "
        "('pg_catalog', 'information_schema')",
        (ID_COLUMNS,),
    )
    deleted = {}
    for schema, table, column in cur.fetchall():
        cur.execute(f'delete from "{schema}"."{table}" where "{column}" = %s', (customer_id,))
        if cur.rowcount:
            deleted[f"{schema}.{table}"] = cur.rowcount
    return deleted


def erase(settings, customer_id: str, reason: str, erased_at: datetime) -> ErasureReport:
    """Erase `customer_id` everywhere this product keeps data; returns what was removed where."""
    if not customer_id.strip():
        raise ValueError("erase: --customer-id is empty")
    if not reason.strip():
        raise ValueError("erase: --reason is required (it is kept with the tombstone)")
    lake_dir = lake.local_dir(settings.lake_dir)
    key = pii.keyed_hash(customer_id, settings.dbt_target)
    tombstones = read_tombstones(lake_dir)
    if key not in set(tombstones.column("customer_key").to_pylist()):
        row = pa.table({"customer_key": [key], "reason": [reason], "erased_at": [erased_at]}, schema=TOMBSTONES)
        lake.replace_partition(pa.concat_tables([tombstones, row]), _tombstone_dir(lake_dir))
    report = ErasureReport()
    report.lake_files = _erase_from_lake(lake_dir, customer_id)
    _update_ledger(lake_dir, report.lake_files)
    if settings.dbt_target in {"dev", "ci"}:
        from clv_jobs import warehouse

        if Path(settings.duckdb_path).exists():
            with warehouse.connect_duckdb(settings.duckdb_path, read_only=False) as con:
                report.warehouse_tables = _erase_from_duckdb(con, customer_id)
    elif settings.dbt_target == "ci_postgres":
        import psycopg2

        with psycopg2.connect(settings.pg_dsn) as conn, conn.cursor() as cur:
            report.warehouse_tables = _erase_from_postgres(cur, customer_id)
    else:
        raise ValueError(
            f"erase: the lake is done; on target {settings.dbt_target} delete the customer's rows from the "
            "snapshots with the warehouse's own tools, then run dbt build (the tombstone keeps them out)"
        )
    return report
