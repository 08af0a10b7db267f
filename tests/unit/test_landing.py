"""The landing guard: contract checks per file, the ledger, duplicates, restatements, release."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv_jobs import contracts, lake, landing

T0, T1 = datetime(2025, 1, 1), datetime(2025, 1, 2)
LINE = {
    "InvoiceNo": "1",
    "StockCode": "10001",
    "Description": "X",
    "Quantity": 1,
    "InvoiceDate": datetime(2024, 12, 30, 9),
    "UnitPrice": Decimal("1.00"),
    "CustomerID": "C0000001",
    "Country": "UK",
    "Currency": "GBP",
}


def _table(n: int = 2, **overrides) -> pa.Table:
    rows = [{**LINE, "InvoiceNo": str(i), **overrides} for i in range(n)]
    return pa.Table.from_pylist(rows, schema=contracts.TRANSACTIONS)


def _land(lake_dir, table, day="2024-12-30", name="part-0.parquet"):
    folder = lake.raw_dir(lake_dir, "transactions") / f"ingest_date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / name)
    return folder / name


@pytest.mark.parametrize(
    ("change", "rule", "words"),
    [
        (lambda t: t.rename_columns(["invoice_no", *t.column_names[1:]]), "renamed_column", "['invoice_no']"),
        (lambda t: t.drop_columns(["Country"]), "missing_column", "['Country'] missing"),
        (lambda t: t.append_column("Promo", pa.array(["a"] * len(t))), "extra_column", "['Promo'] not in"),
        (lambda t: t.select([*t.column_names[1:], "InvoiceNo"]), "column_order", "'StockCode' at position 1"),
        (lambda t: t.set_column(5, "UnitPrice", t.column("UnitPrice").cast(pa.float64())), "column_type", "UnitPrice"),
    ],
    ids=["renamed", "missing", "extra", "reordered", "retyped"],
)
def test_contract_violation_names_the_column(change, rule, words):
    found = landing.contract_violation(change(_table()).schema, "transactions")
    assert found is not None and found[0] == rule and words in found[1]


def test_a_file_on_contract_passes_and_large_strings_or_other_time_units_are_the_same_type():
    assert landing.contract_violation(_table().schema, "transactions") is None
    schema = _table().schema
    schema = schema.set(0, pa.field("InvoiceNo", pa.large_string())).set(4, pa.field("InvoiceDate", pa.timestamp("ns")))
    assert landing.contract_violation(schema, "transactions") is None


def test_the_ledger_accepts_once_and_rejects_the_same_content_under_another_name(tmp_path):
    _land(tmp_path, _table())
    report = landing.check_landing(tmp_path, T0)
    assert report.accepted == ["raw/transactions/ingest_date=2024-12-30/part-0.parquet"]
    assert landing.check_landing(tmp_path, T1).unchanged == 1  # nothing new: nothing re-read
    again = _land(tmp_path, _table(), day="2024-12-31", name="resent.parquet")
    report = landing.check_landing(tmp_path, T1)
    assert list(report.quarantined) == ["raw/transactions/ingest_date=2024-12-31/resent.parquet"]
    assert (
        "same content as raw/transactions/ingest_date=2024-12-30/part-0.parquet"
        in report.quarantined["raw/transactions/ingest_date=2024-12-31/resent.parquet"]
    )
    assert not again.exists()
    assert (tmp_path / "quarantine" / "raw" / "transactions" / "ingest_date=2024-12-31" / "resent.parquet").exists()
    ledger = landing.read_ledger(tmp_path)
    assert sorted(ledger["status"]) == ["accepted", "quarantined"]
    assert ledger.loc[ledger["status"] == "accepted", "rows_landed"].tolist() == [2]


def test_late_changed_and_removed_files_are_restatements(tmp_path):
    _land(tmp_path, _table(), day="2024-12-30")
    _land(tmp_path, _table(3), day="2024-12-31")
    landing.check_landing(tmp_path, T0)
    late = _land(tmp_path, _table(1, InvoiceNo="late"), day="2024-12-29")
    changed = _land(tmp_path, _table(5), day="2024-12-31")
    report = landing.check_landing(tmp_path, T1)
    assert sorted(report.restated) == sorted(str(p.relative_to(tmp_path)) for p in (late, changed))
    ledger = landing.read_ledger(tmp_path)
    assert ledger.loc[ledger["status"] == "superseded", "rows_landed"].tolist() == [3]
    late.unlink()
    report = landing.check_landing(tmp_path, datetime(2025, 1, 3))
    assert report.removed == [str(late.relative_to(tmp_path))]
    assert landing.restated_since(tmp_path, T0, datetime(2024, 12, 31)) == sorted(
        report.removed + [str(changed.relative_to(tmp_path))]
    )
    assert landing.restated_since(tmp_path, datetime(2025, 1, 4), datetime(2024, 12, 31)) == []


def test_a_released_file_is_checked_again_and_a_whole_day_can_be_quarantined(tmp_path):
    _land(tmp_path, _table().drop_columns(["Country"]), day="2024-12-31")
    report = landing.check_landing(tmp_path, T0)
    [path] = report.quarantined
    with pytest.raises(ValueError, match="not a quarantined file"):
        landing.release(tmp_path, "raw/transactions/ingest_date=2024-12-31/other.parquet")
    assert landing.release(tmp_path, path) == path
    fixed = tmp_path / path
    pq.write_table(_table(), fixed)  # the fix: re-exported on contract
    assert landing.check_landing(tmp_path, T1).accepted == [path]
    moved = landing.quarantine_partition(tmp_path, "transactions", datetime(2024, 12, 31).date(), "volume 1 %", T1)
    assert moved == [path] and not fixed.exists()
    ledger = landing.read_ledger(tmp_path)
    assert ledger.loc[ledger["rule_name"] == "quarantined_by_hand", "message"].tolist() == ["volume 1 %"]


def test_an_unreadable_file_is_quarantined(tmp_path):
    path = _land(tmp_path, _table())
    path.write_bytes(b"PAR1 not really")
    report = landing.check_landing(tmp_path, T0)
    assert "not a readable Parquet file" in report.quarantined[str(path.relative_to(tmp_path))]


def test_a_missing_lake_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        landing.check_landing(tmp_path / "nope", T0)
