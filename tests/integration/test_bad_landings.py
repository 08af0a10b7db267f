"""A bad landing halts the build with a message that names the table, the column and the rule."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from clv_jobs import contracts, lake
from conftest import copy_lake, run_dbt

GOOD_LINE = {
    "InvoiceNo": "999001",
    "StockCode": "10001",
    "Description": "TEST",
    "Quantity": 1,
    "InvoiceDate": datetime(2024, 12, 30, 12),
    "UnitPrice": Decimal("1.00"),
    "CustomerID": "C0000001",
    "Country": "United Kingdom",
    "Currency": "GBP",
}


def _land(lake_dir, **overrides):
    row = {**GOOD_LINE, **overrides}
    table = pa.Table.from_pylist([row], schema=contracts.TRANSACTIONS)
    lake.replace_partition(table, lake_dir / "raw" / "transactions" / "ingest_date=2024-12-30", "late.parquet")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"UnitPrice": Decimal("-5.00")}, "source_expect_column_values_to_be_between_shop_transactions__UnitPrice_"),
        ({"Currency": "XYZ"}, "relationships_shop_transactions__Currency_"),
        ({"StockCode": "promo#7"}, "expect_column_values_to_match_regex_shop_transactions__StockCode_"),
    ],
    ids=["negative-unit-price", "unknown-currency", "new-stock-code-shape"],
)
def test_bad_line_fails_the_build(tmp_path, synthetic_lake, overrides, expected):
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    _land(lake_dir, **overrides)
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(tmp_path / "bad.duckdb")}
    result = run_dbt(["build", "--select", "source:shop", "stg_shop__transactions"], env, tmp_path)
    assert result.returncode != 0
    assert f"Failure in test {'dbt_expectations_' if 'expect' in expected else 'source_'}" in result.output
    assert expected in result.output
    assert "SKIP relation staging.stg_shop__transactions" in result.output


def test_a_changed_column_order_fails_the_contract(tmp_path, synthetic_lake):
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    row = {**GOOD_LINE}
    swapped = pa.schema([contracts.TRANSACTIONS.field(i) for i in (1, 0, 2, 3, 4, 5, 6, 7, 8)])
    for part in (lake_dir / "raw" / "transactions").iterdir():
        for file in part.glob("*.parquet"):
            file.unlink()
    lake.replace_partition(
        pa.Table.from_pylist([row], schema=swapped), lake_dir / "raw" / "transactions" / "ingest_date=2024-12-30"
    )
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake_dir), "CLV_DUCKDB_PATH": str(tmp_path / "bad.duckdb")}
    result = run_dbt(["build", "--select", "source:shop.transactions"], env, tmp_path)
    assert result.returncode != 0
    assert "expect_table_columns_to_match_ordered_list_shop_transactions_InvoiceNo" in result.output
