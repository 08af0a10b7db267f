"""The incremental warehouse (ADRs 0017, 0018): after one more day, a late partition and a
restated file land, `dbt build` stages only the new and changed files, rebuilds only the
customers and as-of dates whose inputs changed, and its tables equal a `--full-refresh` build of
the same lake row for row, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv_jobs import contracts, lake, landing, warehouse
from clv_jobs.datasets import synthetic_lake as lake_writer
from conftest import BIN, copy_lake, failure_digest, pg_env, run_dbt

pytestmark = pytest.mark.slow

# Tables that record history by design (the snapshot, the restatement log) or the build state.
NOT_COMPARED = {"snap_customers", "fct_restatements", "int_as_of_date_builds", "pii_key"}
# When a row was written: build state, the one column an incremental build may differ in.
BUILD_STATE_COLUMNS = {"built_at"}
LATE_DAY = date(2024, 8, 14)
# Inside the outlier cap's window (up to the test date, 2023-12-31 here); LATE_DAY is after it.
IN_CAP_WINDOW_DAY = date(2023, 6, 30)
# A line of a customer the CRM does not know yet: quarantined, then released when the CRM learns it.
UNKNOWN_CUSTOMER = "C9999999"
HORIZON_DAYS = 365
# Which dates each per-date model should rebuild: the training examples follow the labels here,
# since no date's split moves.
PER_DATE_MODELS = {
    "int_customer_order_features": "features",
    "int_customer_web_features": "features",
    "fct_customer_features": "features",
    "fct_customer_labels": "labels",
    "fct_clv_training_examples": "labels",
}


def land_a_day_and_a_late_partition(lake_dir: Path) -> str:
    """One more day in every raw table; three lines dated LATE_DAY (and one of a customer the CRM
    does not know) landed late in their own partition; and a file after LATE_DAY restated (one
    line's quantity changed): restatements of history."""
    new_day = lake_writer.land_next_day(lake_dir)
    restate_a_file_after(lake_dir, LATE_DAY)
    line = {
        "StockCode": "10001",
        "Description": "LATE",
        "Quantity": 1,
        "InvoiceDate": datetime.combine(LATE_DAY, datetime.min.time()) + timedelta(hours=12),
        "UnitPrice": Decimal("10.00"),
        "CustomerID": "C0000001",
        "Country": "United Kingdom",
        "Currency": "GBP",
    }
    lines = [{**line, "InvoiceNo": f"98{i:04d}"} for i in range(3)]
    lines.append({**line, "InvoiceNo": "980003", "CustomerID": UNKNOWN_CUSTOMER})
    late = pa.Table.from_pylist(lines, schema=contracts.TRANSACTIONS)
    folder = lake.raw_dir(lake_dir, "transactions") / f"ingest_date={LATE_DAY}"
    pq.write_table(late, folder / "late.parquet")
    return new_day


def first_file_after(lake_dir: Path, table: str, day: date) -> Path:
    return next(f for f in landing.landed_files(lake_dir, table) if f.parent.name > f"ingest_date={day}")


def restate_a_file_after(lake_dir: Path, day: date) -> None:
    """Land again the first transactions file after `day`, one order line's quantity raised."""
    path = first_file_after(lake_dir, "transactions", day)
    table = pq.read_table(path)
    quantities = table.column("Quantity").to_pylist()
    row = next(i for i, q in enumerate(quantities) if q > 0 and table.column("CustomerID")[i].is_valid)
    quantities[row] += 1
    table = table.set_column(table.schema.get_field_index("Quantity"), "Quantity", pa.array(quantities, pa.int64()))
    pq.write_table(table, path)


def restate_an_events_file_after(lake_dir: Path, day: date) -> None:
    """Land again the first clickstream file after `day`: one identified event dropped, another's
    type swapped between add_to_cart and page_view (the sessions' counts move)."""
    path = first_file_after(lake_dir, "events", day)
    table = pq.read_table(path)
    identified = [i for i, c in enumerate(table.column("customer_id").to_pylist()) if c is not None]
    kept = [i for i in range(table.num_rows) if i != identified[0]]
    table = table.take(kept)
    types = table.column("event_type").to_pylist()
    changed = identified[1] - 1  # its index once the dropped row is gone
    types[changed] = "page_view" if types[changed] == "add_to_cart" else "add_to_cart"
    table = table.set_column(table.schema.get_field_index("event_type"), "event_type", pa.array(types, pa.string()))
    pq.write_table(table, path)


def land_an_event_id_again(lake_dir: Path) -> None:
    """One more day whose clickstream file repeats an event_id staged long ago."""
    lake_writer.land_next_day(lake_dir)
    first, *_, newest = sorted(landing.landed_files(lake_dir, "events"))
    table = pq.read_table(newest)
    ids = table.column("event_id").to_pylist()
    ids[0] = pq.read_table(first).column("event_id")[0].as_py()
    pq.write_table(table.set_column(0, "event_id", pa.array(ids, pa.int64())), newest)


def crm_learns_the_unknown_customer(lake_dir: Path, day: str) -> None:
    """A CRM file beside the new day's with the customer whose line was quarantined."""
    customer = {name: None for name in contracts.CUSTOMERS.names}
    customer.update(
        customer_id=UNKNOWN_CUSTOMER,
        signup_date=date(2024, 8, 1),
        updated_at=datetime.fromisoformat(day) + timedelta(hours=12),
    )
    folder = lake.raw_dir(lake_dir, "customers") / f"ingest_date={day}"
    pq.write_table(pa.Table.from_pylist([customer], schema=contracts.CUSTOMERS), folder / "crm-fix.parquet")


def line_rules(database: Path) -> list[tuple]:
    """The unknown customer's staged line: (removed_by_rule, quarantine_rule)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select removed_by_rule, quarantine_rule from staging.stg_shop__transaction_lines where customer_id = ?",
            [UNKNOWN_CUSTOMER],
        ).fetchall()


def check_landing(env: dict) -> None:
    command = [str(BIN / "clv-jobs"), "check-landing"]
    proc = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def built(database: Path) -> dict[str, dict[date, datetime]]:
    """Per model: each as-of date it holds, and when it was last built."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("select model_name, as_of_date, built_at from intermediate.int_as_of_date_builds").fetchall()
    out: dict[str, dict[date, datetime]] = {}
    for model, day, at in rows:
        out.setdefault(model, {})[day] = at
    return out


def rebuilt(before: dict, after: dict) -> dict[str, set[date]]:
    return {m: {d for d, at in days.items() if before.get(m, {}).get(d) != at} for m, days in after.items()}


def differences_duckdb(incremental: Path, full: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: rows, rows only in the incremental build, rows only in the full one."""
    out = {}
    with duckdb.connect(str(incremental), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        catalog = con.execute("select current_database()").fetchone()[0]
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = ? and table_type = 'BASE TABLE'",
            [catalog],
        ).fetchall()
        for schema, table in tables:
            if table in NOT_COMPARED:
                continue
            columns = ", ".join(
                f'"{c}"'
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog = ?"
                    " and table_schema = ? and table_name = ? order by ordinal_position",
                    [catalog, schema, table],
                ).fetchall()
                if c not in BUILD_STATE_COLUMNS
            )
            a = f"select {columns} from {catalog}.{schema}.{table}"
            b = f"select {columns} from full_build.{schema}.{table}"
            out[table] = tuple(
                con.execute(query).fetchone()[0]
                for query in (
                    f"select count(*) from ({a})",
                    f"select count(*) from ({a} except all {b})",
                    f"select count(*) from ({b} except all {a})",
                )
            )
    return out


@pytest.fixture(scope="module")
def duckdb_nightly(tmp_path_factory, synthetic_lake, duckdb_build):
    """The full build of the test lake, then one more day and a late partition, built
    incrementally; the CRM learning a customer and a file restated inside the outlier cap's
    window, built; built again with nothing new; and built from scratch."""
    work = tmp_path_factory.mktemp("incremental_duckdb")
    lake_dir = copy_lake(synthetic_lake, work / "lake")
    database = work / "incremental.duckdb"
    shutil.copy(duckdb_build[0], database)
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(database)}
    before = built(database)
    new_day = land_a_day_and_a_late_partition(lake_dir)
    check_landing(env)
    nightly = run_dbt(["build"], env, work)
    after = built(database)
    quarantined = line_rules(database)
    crm_learns_the_unknown_customer(lake_dir, new_day)
    restate_a_file_after(lake_dir, IN_CAP_WINDOW_DAY)
    restate_an_events_file_after(lake_dir, LATE_DAY)
    check_landing(env)
    release = run_dbt(["build"], env, work)
    released, after_release = line_rules(database), built(database)
    again = run_dbt(["build"], env, work)
    full_env = {**env, "CLV_DUCKDB_PATH": str(work / "full.duckdb")}
    full = run_dbt(["build", "--full-refresh"], full_env, work)
    # On copies: a night whose clickstream repeats an event_id, built twice.
    duplicate_lake = copy_lake(lake_dir, work / "duplicate_lake")
    land_an_event_id_again(duplicate_lake)
    duplicate_env = {**env, "CLV_LAKE_DIR": str(duplicate_lake), "CLV_DUCKDB_PATH": str(work / "duplicate.duckdb")}
    shutil.copy(database, work / "duplicate.duckdb")
    check_landing(duplicate_env)
    duplicate = [run_dbt(["build"], duplicate_env, work) for _ in range(2)]
    return {
        "results": (nightly, release, again, full),
        "duplicate_event_nights": duplicate,
        "before": before,
        "after": after,
        "unknown_customer_line": (quarantined, released),
        "after_release": after_release,
        "again": built(database),
        "database": database,
        "full": work / "full.duckdb",
    }


def test_nightly_builds_pass(duckdb_nightly):
    for result in duckdb_nightly["results"]:
        assert result.returncode == 0, failure_digest(result.output)


def test_only_the_as_of_dates_whose_inputs_changed_are_rebuilt(duckdb_nightly):
    before, after = duckdb_nightly["before"], duckdb_nightly["after"]
    spine = sorted(after["fct_customer_features"])
    assert spine == sorted(before["fct_customer_features"]) and len(spine) == 36
    # Features see the late lines from the first month end after them on; labels see them (and
    # the new day) from the month ends whose label lookahead reaches them; nothing else moves.
    expected = {
        "features": {d for d in spine if d >= LATE_DAY},
        "labels": {d for d in spine if d + timedelta(days=HORIZON_DAYS) >= LATE_DAY},
    }
    assert expected["features"] == {date(2024, m, 28 if m == 2 else 30 if m in (9, 11) else 31) for m in range(8, 13)}
    assert len(expected["labels"]) < len(spine)
    assert rebuilt(before, after) == {model: expected[kind] for model, kind in PER_DATE_MODELS.items()}


def test_a_build_with_nothing_new_rebuilds_no_as_of_date(duckdb_nightly):
    assert duckdb_nightly["again"] == duckdb_nightly["after_release"]
    again = duckdb_nightly["results"][2].output
    assert "incremental model marts.fct_customer_features" in again
    assert "stg_shop__transaction_lines: staging 0 new or changed landed files" in again


def test_the_nightly_build_stages_only_new_and_restated_files(duckdb_nightly):
    nightly, release, again, _ = (result.output for result in duckdb_nightly["results"])
    # the new day, the late partition and the restated file
    assert "stg_shop__transaction_lines: staging 3 new or changed landed files" in nightly
    assert "stg_web__events: staging 1 new or changed landed files" in nightly
    assert "stg_web__events: staging 1 new or changed landed files" in release  # the restated one
    assert "stg_web__events: staging 0 new or changed landed files" in again


def test_an_event_id_landed_again_stops_the_sessions_every_night_until_fixed(duckdb_nightly):
    # The uniqueness test checks only events staged since the sessions last read them: a night
    # that fails it leaves them unread, so the next night checks (and fails) them again.
    for result in duckdb_nightly["duplicate_event_nights"]:
        assert result.returncode != 0
        assert "FAIL 1 assert_web_event_ids_unique" in result.output
        assert "SKIP relation intermediate.int_web_sessions" in result.output


def test_the_outlier_cap_is_taken_again_only_when_an_amount_in_its_window_changed(duckdb_nightly):
    nightly, release, again, full = (result.output for result in duckdb_nightly["results"])
    kept = "stg_shop__line_amount_cap: no amount in the cap's window changed, the cap is kept"
    taken = "stg_shop__line_amount_cap: the cap's window or its amounts changed, the cap is taken again"
    # the new day and the late partition fall after the window; the release night restates a
    # file inside it; a full refresh takes the cap without looking at the previous row
    assert kept in nightly and taken not in nightly
    assert taken in release
    assert kept in again
    assert kept not in full and taken not in full


def test_a_line_quarantined_as_unknown_is_released_when_the_crm_learns_its_customer(duckdb_nightly):
    quarantined, released = duckdb_nightly["unknown_customer_line"]
    assert quarantined == [(None, "unknown_customer")]
    assert released == [(None, None)]


def test_incremental_tables_equal_a_full_refresh_on_duckdb(duckdb_nightly):
    differences = differences_duckdb(duckdb_nightly["database"], duckdb_nightly["full"])
    assert set(PER_DATE_MODELS) <= set(differences)
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}
    assert all(differences[t][0] > 0 for t in PER_DATE_MODELS)


# -- PostgreSQL: the same nights, compared table by table inside the server

# Models that write only what changed: the lines, days, products and first purchases of the
# customers in the new and restated files, the events of the new file.
PARTLY_WRITTEN_MODELS = {
    "stg_shop__transaction_lines": "staging",
    "stg_shop__transactions": "staging",
    "int_customer_days": "intermediate",
    "int_customer_products": "intermediate",
    "int_customer_first_purchases": "intermediate",
    "stg_web__events": "staging",
}


def rows_written(run_results: Path, models) -> dict[str, int]:
    """Rows each model's last statement wrote (PostgreSQL reports the insert's count)."""
    results = json.loads(run_results.read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]: r["adapter_response"]["rows_affected"]
        for r in results
        if r["unique_id"].split(".")[-1] in models and r["unique_id"].startswith("model.")
    }


SCHEMAS = ("seeds", "staging", "intermediate", "marts", "quality", "snapshots")


@pytest.mark.postgres
def test_incremental_tables_equal_a_full_refresh_on_postgres(tmp_path, synthetic_lake, postgres_dsn):
    import psycopg2

    def execute(sql: str) -> None:
        with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql)

    execute("drop schema if exists " + ", ".join(SCHEMAS + tuple(f"incremental_{s}" for s in SCHEMAS)) + " cascade")
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    env = {"CLV_DBT_TARGET": "ci_postgres", "CLV_LAKE_DIR": str(lake_dir), **pg_env()}
    warehouse.load_raw_to_postgres(lake_dir, postgres_dsn)
    first = run_dbt(["build"], env, tmp_path)
    assert first.returncode == 0, failure_digest(first.output)

    land_a_day_and_a_late_partition(lake_dir)
    check_landing(env)
    warehouse.load_raw_to_postgres(lake_dir, postgres_dsn)
    nightly = run_dbt(["build"], env, tmp_path)
    assert nightly.returncode == 0, failure_digest(nightly.output)
    rebuilt_dates = (
        warehouse.postgres_query(
            postgres_dsn,
            "select count(distinct as_of_date) as n from intermediate.int_as_of_date_builds"
            " where model_name = 'fct_customer_features'"
            " and built_at = (select max(built_at) from intermediate.int_as_of_date_builds)",
        )
        .column("n")[0]
        .as_py()
    )
    assert rebuilt_dates == 5  # the month ends from the late lines on
    written = rows_written(tmp_path / "target" / "run_results.json", PARTLY_WRITTEN_MODELS)
    for model, schema in PARTLY_WRITTEN_MODELS.items():
        held = (
            warehouse.postgres_query(postgres_dsn, f"select count(*) as n from {schema}.{model}").column("n")[0].as_py()
        )
        assert 0 < written[model] < held / 10, (model, written[model], held)

    for schema in SCHEMAS:
        execute(f"alter schema {schema} rename to incremental_{schema}")
    full = run_dbt(["build", "--full-refresh"], env, tmp_path)
    assert full.returncode == 0, failure_digest(full.output)
    tables = warehouse.postgres_query(
        postgres_dsn,
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        f" and table_schema in ({', '.join(repr(s) for s in SCHEMAS)})",
    ).to_pylist()
    differences = {}
    for row in tables:
        schema, table = row["table_schema"], row["table_name"]
        if table in NOT_COMPARED:
            continue
        columns = ", ".join(
            f'"{c["column_name"]}"'
            for c in warehouse.postgres_query(
                postgres_dsn,
                "select column_name from information_schema.columns"
                f" where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position",
            ).to_pylist()
            if c["column_name"] not in BUILD_STATE_COLUMNS
        )
        a = f"select {columns} from incremental_{schema}.{table}"
        b = f"select {columns} from {schema}.{table}"
        query = (
            f"select (select count(*) from ({a}) as n) as n,"
            f" (select count(*) from ({a} except all {b}) as x) as only_incremental,"
            f" (select count(*) from ({b} except all {a}) as y) as only_full"
        )
        differences[table] = tuple(warehouse.postgres_query(postgres_dsn, query).to_pylist()[0].values())
    assert set(PER_DATE_MODELS) <= set(differences)
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}
    assert all(differences[t][0] > 0 for t in PER_DATE_MODELS)
