"""Importers map public data sets to the raw contract exactly."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow.compute as pc
import pytest

from clv_jobs import contracts
from clv_jobs.datasets import importers


@pytest.fixture(scope="module")
def cdnow():
    return importers.read_cdnow()


def test_cdnow_master_has_every_row_and_customer(cdnow):
    transactions, customers, events, removed = cdnow
    assert removed == {}
    assert len(transactions) == 69_659
    assert pc.count_distinct(transactions.column("CustomerID")).as_py() == 23_570
    assert len(customers) == 23_570
    assert len(events) == 0
    assert transactions.schema == contracts.TRANSACTIONS
    assert customers.schema == contracts.CUSTOMERS


def test_cdnow_keeps_dollars_to_the_cent(cdnow):
    transactions = cdnow.transactions
    raw = pd.read_csv(importers.cdnow_path(), sep=r"\s+", skiprows=1, header=None, dtype=str)
    expected = sum(Decimal(v) for v in raw[3])
    assert pc.sum(transactions.column("UnitPrice")).as_py() == expected
    assert pc.min(transactions.column("InvoiceDate")).as_py().date().isoformat() == "1997-01-01"
    assert pc.max(transactions.column("InvoiceDate")).as_py().date().isoformat() == "1998-06-30"


def test_cdnow_sample_is_the_2357_customer_cohort():
    transactions, customers, _, _ = importers.read_cdnow(sample=True)
    assert len(customers) == 2_357
    assert len(transactions) == 6_919


ONLINE_RETAIL_I = pd.DataFrame(
    {
        "InvoiceNo": ["536365", "536365", "C536379", "536380"],
        "StockCode": ["85123A", "71053", "85123A", "POST"],
        "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", "WHITE HANGING HEART", "POSTAGE"],
        "Quantity": [6, 6, -1, 1],
        "InvoiceDate": ["12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 9:41", "12/1/2010 9:45"],
        "UnitPrice": [2.55, 3.39, 2.55, 18.0],
        "CustomerID": [17850.0, 17850.0, 17850.0, None],
        "Country": ["United Kingdom"] * 3 + ["France"],
    }
)


def test_online_retail_csv(tmp_path):
    path = tmp_path / "Online Retail.csv"
    ONLINE_RETAIL_I.to_csv(path, index=False)
    transactions, customers, _, removed = importers.read_online_retail(path)
    frame = transactions.to_pandas()
    assert frame["CustomerID"].tolist()[:3] == ["17850"] * 3 and pd.isna(frame["CustomerID"].iloc[3])
    assert frame["InvoiceDate"].iloc[0] == pd.Timestamp("2010-12-01 08:26")
    assert frame["Currency"].unique().tolist() == ["GBP"]
    assert frame["Quantity"].tolist() == [6, 6, -1, 1]
    assert customers.column("customer_id").to_pylist() == ["17850"]
    assert removed == {"negative_unit_price (accounting adjustments)": 0}


def test_online_retail_ii_xlsx_with_two_sheets(tmp_path):
    renamed = ONLINE_RETAIL_I.rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    renamed["InvoiceDate"] = pd.to_datetime(renamed["InvoiceDate"], format="%m/%d/%Y %H:%M")
    path = tmp_path / "online_retail_II.xlsx"
    with pd.ExcelWriter(path) as writer:
        renamed.iloc[:2].to_excel(writer, sheet_name="Year 2009-2010", index=False)
        renamed.iloc[2:].to_excel(writer, sheet_name="Year 2010-2011", index=False)
    transactions = importers.read_online_retail(path).transactions
    assert len(transactions) == 4
    assert transactions.column("InvoiceNo").to_pylist() == ["536365", "536365", "C536379", "536380"]


def test_online_retail_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    ONLINE_RETAIL_I.drop(columns=["UnitPrice"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['UnitPrice'\]"):
        importers.read_online_retail(path)


def test_online_retail_bad_debt_adjustments_are_left_out_and_counted(tmp_path):
    frame = pd.concat(
        [
            ONLINE_RETAIL_I,
            pd.DataFrame(
                {
                    "InvoiceNo": ["A563185"],
                    "StockCode": ["B"],
                    "Description": ["Adjust bad debt"],
                    "Quantity": [1],
                    "InvoiceDate": ["8/12/2011 14:50"],
                    "UnitPrice": [-11062.06],
                    "CustomerID": [None],
                    "Country": ["United Kingdom"],
                }
            ),
        ]
    )
    path = tmp_path / "Online Retail.csv"
    frame.to_csv(path, index=False)
    imported = importers.read_online_retail(path)
    assert len(imported.transactions) == 4
    assert imported.removed == {"negative_unit_price (accounting adjustments)": 1}
