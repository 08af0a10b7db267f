"""Fault injection: faulty landings into the small test shop, then what a nightly run does
(`clv-jobs check-landing`, `dbt build`). Each fault is caught with a message naming the file,
column or rule, or quarantined and counted; the published marts either keep their state or
equal the clean build; the accounting identity holds (docs/reliability.md).

Faults the guard or staging absorbs (the build passes) land together, one file each, in one run
that every test of the group reads; a fault that fails the build gets a run of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from clv_jobs import contracts, lake
from conftest import BIN, copy_lake, run_dbt

pytestmark = pytest.mark.slow

MARTS = ["marts.fct_customer_features", "marts.fct_customer_labels", "marts.fct_clv_training_examples"]
# A short spine keeps each build near 15 s; the rules under test do not depend on it.
VARS = "{clv_as_of_months: 6}"
NEW_DAY = "ingest_date=2025-01-01"


def _checksums(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            mart: con.execute(
                f"select count(*) || ':' || md5(string_agg(md5(t::varchar), ',' order by md5(t::varchar)))"
                f" from {mart} t"
            ).fetchone()[0]
            for mart in MARTS
        }


@dataclass
class Run:
    landing_code: int
    landing_output: str
    build_code: int
    build_output: str
    database: Path
    lake: Path


@pytest.fixture(scope="module")
def clean(tmp_path_factory, synthetic_lake):
    """The clean lake built once: its warehouse file and mart checksums."""
    work = tmp_path_factory.mktemp("faults_clean")
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(synthetic_lake), "CLV_DUCKDB_PATH": str(work / "clean.duckdb")}
    result = run_dbt(["build", "--vars", VARS], env, work)
    assert result.returncode == 0, result.output[-3000:]
    return work / "clean.duckdb", _checksums(work / "clean.duckdb")


def _run(work: Path, synthetic_lake: Path, clean, inject, vars_: str = VARS) -> Run:
    """Copy the clean lake and warehouse, land the fault, then check-landing and dbt build."""
    lake_dir = copy_lake(synthetic_lake, work / "lake")
    database = work / "warehouse.duckdb"
    shutil.copy(clean[0], database)
    inject(lake_dir)
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(database)}
    landing = subprocess.run(
        [str(BIN / "clv-jobs"), "check-landing"], env={**os.environ, **env}, capture_output=True, text=True
    )
    build = run_dbt(["build", "--vars", vars_], env, work)
    return Run(landing.returncode, landing.stdout + landing.stderr, build.returncode, build.output, database, lake_dir)


def _lines(prefix: str = "99", **overrides) -> list[dict]:
    line = {
        "InvoiceNo": "",
        "StockCode": "10001",
        "Description": "FAULT",
        "Quantity": 1,
        "InvoiceDate": datetime(2025, 1, 1, 10),
        "UnitPrice": Decimal("3.00"),
        "CustomerID": "C0000001",
        "Country": "United Kingdom",
        "Currency": "GBP",
    }
    return [{**line, "InvoiceNo": f"{prefix}{i:04d}", **overrides} for i in range(3)]


def _land(lake_dir: Path, table: pa.Table, partition: str = NEW_DAY, name: str = "part-0.parquet") -> Path:
    folder = lake.raw_dir(lake_dir, "transactions") / partition
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / name)
    return folder / name


def _land_lines(lake_dir: Path, rows: list[dict], **kwargs) -> Path:
    return _land(lake_dir, pa.Table.from_pylist(rows, schema=contracts.TRANSACTIONS), **kwargs)


def _newest_file(lake_dir: Path) -> Path:
    return sorted(lake.raw_dir(lake_dir, "transactions").glob("*/*.parquet"))[-1]


def _query(database: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _assert_published_clean(run: Run, clean) -> None:
    """The build passed, every landed row is accounted for, and the marts equal the clean build."""
    assert run.build_code == 0, run.build_output[-3000:]
    assert "PASS assert_landed_rows_accounted_for" in run.build_output
    assert "PASS assert_raw_files_match_landing_ledger" in run.build_output
    assert _checksums(run.database) == clean[1]


def _assert_failed_and_kept(run: Run, clean, failing_test: str, skipped: str) -> None:
    """The build failed naming the test, skipped publishing, and the marts kept their state."""
    assert run.build_code != 0
    assert failing_test in run.build_output, run.build_output[-3000:]
    assert f"SKIP relation staging.{skipped}" in run.build_output
    assert _checksums(run.database) == clean[1]


# -- file faults: the guard quarantines each file and says why (exit 1); the build goes on without them

FILE_FAULTS = {
    "renamed-column": (
        lambda t: t.rename_columns([c if c != "CustomerID" else "customer_id" for c in t.column_names]),
        "renamed_column",
        "['customer_id'] instead of the contract's ['CustomerID']",
    ),
    "missing-column": (lambda t: t.drop_columns(["Currency"]), "missing_column", "['Currency'] missing"),
    "extra-column": (
        lambda t: t.append_column("Discount", pa.array([0.1] * len(t))),
        "extra_column",
        "['Discount'] not in the contract",
    ),
    "reordered-columns": (
        lambda t: t.select(["StockCode", "InvoiceNo", *t.column_names[2:]]),
        "column_order",
        "column 'StockCode' at position 1",
    ),
    "changed-type": (
        lambda t: t.set_column(3, "Quantity", pc.cast(t.column("Quantity"), pa.string())),
        "column_type",
        "column 'Quantity' is string",
    ),
    "corrupt-file": (None, "unreadable", "not a readable Parquet file"),
    "same-file-twice": (None, "duplicate_file", "same content as raw/transactions/ingest_date=2024-12-31/"),
}


def _inject_file_faults(lake_dir: Path) -> None:
    earlier = _newest_file(lake_dir)
    for fault, (change, _, _) in FILE_FAULTS.items():
        if change is not None:
            table = change(pa.Table.from_pylist(_lines(), schema=contracts.TRANSACTIONS))
            _land(lake_dir, table, name=f"{fault}.parquet")
    _land_lines(lake_dir, _lines(), name="corrupt-file.parquet").write_bytes(b"PAR1" + b"\0" * 100)
    shutil.copy(earlier, lake.raw_dir(lake_dir, "transactions") / NEW_DAY / "same-file-twice.parquet")


@pytest.fixture(scope="module")
def file_faults(tmp_path_factory, synthetic_lake, clean) -> Run:
    return _run(tmp_path_factory.mktemp("file_faults"), synthetic_lake, clean, _inject_file_faults)


@pytest.mark.parametrize("fault", list(FILE_FAULTS), ids=list(FILE_FAULTS))
def test_a_bad_file_is_quarantined_naming_the_column_or_the_earlier_file(file_faults, clean, fault):
    _, rule, message = FILE_FAULTS[fault]
    run = file_faults
    path = f"raw/transactions/{NEW_DAY}/{fault}.parquet"
    assert run.landing_code == 1
    [line] = [line for line in run.landing_output.splitlines() if line.startswith(f"error: quarantined {path}:")]
    assert message in line and line.endswith(f"(rule {rule})")
    assert (run.lake / "quarantine" / path).exists() and not (run.lake / path).exists()
    _assert_published_clean(run, clean)
    assert _query(run.database, "select status, rule_name from quality.fct_landed_files where file_path = ?", path) == [
        ("quarantined", rule)
    ]
    # A quarantined file is a critical data-quality failure: a high-tier alert naming it.
    raised = pd.read_parquet(run.lake / "ml" / "alerts")
    [alert] = raised[raised["message"].str.startswith(f"{path}:")].to_dict("records")
    assert (alert["tier"], alert["rule_name"], alert["raised_by"]) == ("high", "file_quarantined", "check-landing")


def test_a_file_dbt_reads_that_the_guard_never_saw_fails_the_build(tmp_path, synthetic_lake, clean):
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(clean[0], database)
    _land_lines(lake_dir, _lines())  # and no check-landing
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(database)}
    result = run_dbt(["build", "--vars", VARS], env, tmp_path)
    run = Run(0, "", result.returncode, result.output, database, lake_dir)
    _assert_failed_and_kept(run, clean, "FAIL 1 assert_raw_files_match_landing_ledger", "stg_shop__transactions")


# -- row faults: quarantined (kept, counted, with their file) or removed by a counted rule

ROW_FAULTS = {
    "future-dates": ({"InvoiceDate": datetime(2030, 6, 1, 9)}, "event_date_after_ingest_date"),
    "ancient-dates": ({"InvoiceDate": datetime(1985, 6, 1, 9)}, "event_date_before_shop_start"),
    "gift-card-customer-ids": ({"CustomerID": "GC-00001"}, "customer_id_pattern"),
    "customer-unknown-to-crm": ({"CustomerID": "C9999999"}, "unknown_customer"),
    "zero-quantity": ({"Quantity": 0}, "zero_quantity"),
}


def _inject_row_faults(lake_dir: Path) -> None:
    earlier = _newest_file(lake_dir)
    for n, (fault, (overrides, _)) in enumerate(ROW_FAULTS.items()):
        _land_lines(lake_dir, _lines(prefix=f"9{n}", **overrides), name=f"{fault}.parquet")
    table = pq.read_table(earlier)
    table = table.filter(pc.is_valid(table.column("CustomerID"))).slice(0, 10)
    _land(lake_dir, pa.concat_tables([table, table]), name="duplicate-lines.parquet")


@pytest.fixture(scope="module")
def row_faults(tmp_path_factory, synthetic_lake, clean) -> Run:
    return _run(tmp_path_factory.mktemp("row_faults"), synthetic_lake, clean, _inject_row_faults)


@pytest.mark.parametrize("fault", list(ROW_FAULTS), ids=list(ROW_FAULTS))
def test_a_bad_line_is_quarantined_and_counted_with_its_file(row_faults, clean, fault):
    _, rule = ROW_FAULTS[fault]
    run = row_faults
    assert run.landing_code == 0, run.landing_output
    _assert_published_clean(run, clean)
    kept = _query(
        run.database,
        "select source_file_name, cast(ingest_date as varchar), count(*) from quality.fct_quarantined_rows"
        " where rule_name = ? group by 1, 2",
        rule,
    )
    assert kept == [(f"{fault}.parquet", "2025-01-01", 3)]
    counted = _query(
        run.database, "select rows_affected from quality.rpt_staging_rule_counts where rule_name = ?", rule
    )
    assert counted == [(3,)]
    # A line dated 2030 never moves the as-of spine: it ends at the newest published landing.
    assert _query(run.database, "select cast(max(as_of_date) as varchar) from intermediate.int_as_of_dates") == [
        ("2024-12-31",)
    ]


def test_exact_duplicate_lines_are_removed_by_a_counted_rule(row_faults, clean):
    _assert_published_clean(row_faults, clean)
    counted = _query(
        row_faults.database,
        "select rows_affected from quality.rpt_staging_rule_counts where rule_name = ?",
        "exact_duplicate_line",
    )
    assert counted == [(20,)]


# -- day faults: the per-ingest-date limits fail the build; the marts keep their last good state


def test_a_day_with_half_its_lines_without_customer_fails_the_build(tmp_path, synthetic_lake, clean):
    def inject(lake_dir):
        # 30 orders of one line each (copies: `_lines() * 10` repeats the same three dicts).
        rows = [dict(line) for line in _lines() * 10]
        for i, row in enumerate(rows):
            row["InvoiceNo"] = f"98{i:04d}"
            row["CustomerID"] = None if i % 2 else row["CustomerID"]
        _land_lines(lake_dir, rows)

    run = _run(tmp_path, synthetic_lake, clean, inject)
    assert run.landing_code == 0
    _assert_failed_and_kept(
        run, clean, "FAIL 1 null_customer_share_per_ingest_date_within_limit", "stg_shop__transactions"
    )


def test_a_day_with_a_sliver_of_its_volume_fails_the_build(tmp_path, synthetic_lake, clean):
    # The small shop lands ~25 lines a day: judge volume from a 20-line median, at 5 %.
    small_shop = "{clv_as_of_months: 6, clv_min_median_rows_for_volume_check: 20, clv_min_volume_ratio: 0.05}"
    run = _run(tmp_path, synthetic_lake, clean, lambda d: _land_lines(d, _lines()[:1]), vars_=small_shop)
    _assert_failed_and_kept(run, clean, "FAIL 1 volume_per_ingest_date_within_limit", "stg_shop__transactions")


# -- restatements: late or changed landings are real data; they are reported, not hidden


def test_a_late_partition_is_reported_as_a_restatement(tmp_path, synthetic_lake, clean):
    late = _lines(InvoiceDate=datetime(2024, 8, 14, 12), UnitPrice=Decimal("10.00"))

    def inject(lake_dir):
        _land_lines(lake_dir, late, partition="ingest_date=2024-08-14", name="late.parquet")

    run = _run(tmp_path, synthetic_lake, clean, inject)
    assert run.landing_code == 0
    assert "restatement: raw/transactions/ingest_date=2024-08-14/late.parquet" in run.landing_output
    assert run.build_code == 0, run.build_output[-3000:]
    moved = _query(
        run.database,
        "select cast(as_of_date as varchar), feature_revenue_change_usd from quality.fct_restatements"
        " where change_kind = 'restated' order by as_of_date",
    )
    [(rate,)] = _query(run.database, "select usd_per_unit from seeds.currency_rates where currency_code = 'GBP'")
    # Features from the first month end after the late lines on moved by exactly their amount.
    assert [day for day, _ in moved] == ["2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31"]
    assert {change for _, change in moved} == {Decimal("30.00") * rate}


def test_a_changed_file_is_reported_as_a_restatement(tmp_path, synthetic_lake, clean):
    def inject(lake_dir):
        path = sorted(lake.raw_dir(lake_dir, "transactions").glob("ingest_date=2024-09-1*/*.parquet"))[0]
        pq.write_table(pq.read_table(path).slice(1), path)

    run = _run(tmp_path, synthetic_lake, clean, inject)
    assert "restatement: raw/transactions/ingest_date=2024-09-1" in run.landing_output
    assert run.build_code == 0, run.build_output[-3000:]
    assert _query(run.database, "select count(*) from quality.fct_landed_files where is_changed") == [(1,)]
    assert _query(run.database, "select count(*) from quality.fct_landed_files where status = 'superseded'") == [(1,)]
    assert _query(run.database, "select count(*) > 0 from quality.fct_restatements where change_kind = 'restated'") == [
        (True,)
    ]


# -- bad values in a file that is on contract: the dbt source tests stay the second line

VALUE_FAULTS = {
    "negative-unit-price": (
        {"UnitPrice": Decimal("-5.00")},
        "source_expect_column_values_to_be_between_shop_transactions__UnitPrice_",
    ),
    "unknown-currency": ({"Currency": "XYZ"}, "relationships_shop_transactions__Currency_"),
    "new-stock-code-shape": (
        {"StockCode": "promo#7"},
        "expect_column_values_to_match_regex_shop_transactions__StockCode_",
    ),
}


@pytest.fixture(scope="module")
def value_faults(tmp_path_factory, synthetic_lake, clean) -> Run:
    def inject(lake_dir):
        for n, (fault, (overrides, _)) in enumerate(VALUE_FAULTS.items()):
            _land_lines(lake_dir, _lines(prefix=f"97{n}", **overrides), name=f"{fault}.parquet")

    return _run(tmp_path_factory.mktemp("value_faults"), synthetic_lake, clean, inject)


@pytest.mark.parametrize("fault", list(VALUE_FAULTS), ids=list(VALUE_FAULTS))
def test_a_bad_value_fails_the_build_naming_the_column(value_faults, clean, fault):
    _, expected = VALUE_FAULTS[fault]
    assert value_faults.landing_code == 0
    _assert_failed_and_kept(value_faults, clean, expected, "stg_shop__transaction_lines")
