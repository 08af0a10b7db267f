"""PII: the hash key is in no artifact dbt writes, and an erased customer is nowhere."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv_jobs import contracts, lake, landing, pii
from conftest import BIN, copy_lake, run_dbt

pytestmark = pytest.mark.slow

VARS = "{clv_as_of_months: 6}"
PROBE_SALT = "probe-salt-5d1e77c2"
ERASED = "C0000005"


def test_the_pii_key_is_in_no_compiled_sql_manifest_log_or_view(tmp_path, synthetic_lake):
    env = {
        "CLV_DBT_TARGET": "ci",
        "CLV_LAKE_DIR": str(synthetic_lake),
        "CLV_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "CLV_PII_SALT": PROBE_SALT,
    }
    selection = ["--select", "+stg_shop__customers", "+dim_customers", "--indirect-selection", "cautious"]
    result = run_dbt(["build", "--vars", VARS, *selection], env, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    artifacts = [p for folder in ("target", "logs") for p in (tmp_path / folder).rglob("*") if p.is_file()]
    assert any(p.name == "manifest.json" for p in artifacts) and any(p.name == "dbt.log" for p in artifacts)
    assert [p for p in artifacts if PROBE_SALT.encode() in p.read_bytes()] == []
    assert PROBE_SALT not in result.output
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        definitions = con.execute("select sql from duckdb_views() where not internal").fetchall()
        hashed = con.execute(
            "select customer_id, email_hash from staging.stg_shop__customers where email_hash is not null limit 1"
        ).fetchone()
    assert definitions and not any(PROBE_SALT in (sql or "") for (sql,) in definitions)
    # The hash is keyed by the probe salt: staging and Python agree on it.
    crm = pq.read_table(lake.raw_dir(synthetic_lake, "customers")).to_pandas()
    email = crm.loc[crm["customer_id"] == hashed[0], "email"].dropna().iloc[0]
    os.environ["CLV_PII_SALT"] = PROBE_SALT
    try:
        assert pii.keyed_hash(email, "ci") == hashed[1]
    finally:
        del os.environ["CLV_PII_SALT"]


def _traces_in_lake(lake_dir: Path) -> list[str]:
    found = []
    for path in sorted(lake_dir.rglob("*.parquet")):
        if any(lake.is_hidden(part) for part in path.relative_to(lake_dir).parts):
            continue
        table = pq.read_table(path)
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type) and ERASED in table.column(name).to_pylist():
                found.append(f"{path.relative_to(lake_dir)}:{name}")
    return found


def _traces_in_warehouse(database: Path) -> list[str]:
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            n = con.execute(f'select count(*) from "{schema}"."{table}" where "{column}" = ?', [ERASED]).fetchone()[0]
            if n:
                found.append(f"{schema}.{table}.{column}")
    return found


def test_an_erased_customer_is_nowhere_and_never_comes_back(tmp_path, synthetic_lake):
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    database = tmp_path / "w.duckdb"
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(database)}
    assert run_dbt(["build", "--vars", VARS], env, tmp_path).returncode == 0
    assert _traces_in_lake(lake_dir) and _traces_in_warehouse(database)  # the customer is there to erase

    def clv_jobs(*args):
        proc = subprocess.run([str(BIN / "clv-jobs"), *args], env={**os.environ, **env}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    output = clv_jobs("erase", "--customer-id", ERASED, "--reason", "GDPR request 42")
    assert "warehouse snapshots.snap_customers:" in output and "tombstone recorded" in output
    assert _traces_in_lake(lake_dir) == []
    assert _traces_in_warehouse(database) == []

    # A rebuild, and a later landing that still carries the customer, bring nothing back.
    line = {
        "InvoiceNo": "777001",
        "StockCode": "10001",
        "Description": "AFTER ERASURE",
        "Quantity": 1,
        "InvoiceDate": datetime(2025, 1, 1, 9),
        "UnitPrice": Decimal("5.00"),
        "CustomerID": ERASED,
        "Country": "United Kingdom",
        "Currency": "GBP",
    }
    folder = lake.raw_dir(lake_dir, "transactions") / "ingest_date=2025-01-01"
    folder.mkdir()
    pq.write_table(
        pa.Table.from_pylist([line, {**line, "CustomerID": "C0000006"}], schema=contracts.TRANSACTIONS),
        folder / "p.parquet",
    )
    clv_jobs("check-landing")
    ledger = landing.read_ledger(lake_dir)
    assert ledger.loc[
        ledger["file_path"].str.endswith("2025-01-01/p.parquet"), ["rows_landed", "rows_erased"]
    ].values.tolist() == [[1, 1]]
    result = run_dbt(["build", "--vars", VARS], env, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    assert _traces_in_lake(lake_dir) == []
    assert _traces_in_warehouse(database) == []
    tombstones = pq.read_table(lake_dir / "landing" / "erasures").to_pylist()
    assert [t["reason"] for t in tombstones] == ["GDPR request 42"]
    assert tombstones[0]["customer_key"] == pii.keyed_hash(ERASED, "ci") != ERASED


@pytest.mark.postgres
def test_erase_on_postgres_leaves_no_trace_in_any_table(tmp_path, synthetic_lake, postgres_dsn):
    import psycopg2

    from clv_jobs import warehouse
    from conftest import pg_env

    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists seeds, staging, intermediate, marts, quality, snapshots cascade")
    warehouse.load_raw_to_postgres(lake_dir, postgres_dsn)
    env = {"CLV_DBT_TARGET": "ci_postgres", "CLV_LAKE_DIR": str(lake_dir), **pg_env()}
    result = run_dbt(["build", "--vars", VARS], env, tmp_path)
    assert result.returncode == 0, result.output[-3000:]

    def traces() -> list[str]:
        found = []
        with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
                " join information_schema.tables t using (table_catalog, table_schema, table_name)"
                " where t.table_type = 'BASE TABLE' and c.data_type in ('text', 'character varying')"
                " and c.table_schema not in ('pg_catalog', 'information_schema')"
            )
            for schema, table, column in cur.fetchall():
                cur.execute(f'select count(*) from "{schema}"."{table}" where "{column}" = %s', (ERASED,))
                if cur.fetchone()[0]:
                    found.append(f"{schema}.{table}.{column}")
        return found

    assert "raw.transactions.CustomerID" in traces()
    proc = subprocess.run(
        [str(BIN / "clv-jobs"), "erase", "--customer-id", ERASED, "--reason", "GDPR request 43"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warehouse snapshots.snap_customers:" in proc.stdout
    assert traces() == []
    assert _traces_in_lake(lake_dir) == []
