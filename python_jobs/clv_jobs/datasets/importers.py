"""Importers that map public data sets to the raw contract (DESIGN §4).

* CDNOW (Fader & Hardie): the master file shipped inside the ``lifetimes`` distribution.
  Each row (customer, YYYYMMDD, number of CDs, dollars) becomes one transaction line:
  ``InvoiceNo = <row number>``, ``StockCode = CD``, ``Description = "<n> CD(s)"``,
  ``Quantity = 1`` and ``UnitPrice = dollars`` so revenue is exact to the cent (the CD count
  lives in the description), ``InvoiceDate`` at midnight, ``Country = United States``,
  ``Currency = USD``. The CRM gets one row per customer (no PII, channel ``unknown``,
  signed up on the first purchase); the clickstream is empty.
* Online Retail (UCI, I or II; CSV or XLSX): its columns are the transactions contract.
  Release II's names (``Invoice``, ``Price``, ``Customer ID``) are renamed; ``Currency = GBP``.
  The CRM is derived from the transactions the same way as for CDNOW.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from clv_jobs import contracts, landing

__all__ = ["Imported", "cdnow_path", "read_cdnow", "read_online_retail", "write_import"]


class Imported(NamedTuple):
    """An imported data set in the raw contract, and what the import left out (rule -> rows)."""

    transactions: pa.Table
    customers: pa.Table
    events: pa.Table
    removed: dict[str, int]


ONLINE_RETAIL_II_NAMES = {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}


def cdnow_path(sample: bool = False) -> Path:
    """Locate CDNOW_master.txt (or the sample) in the installed ``lifetimes`` distribution.

    ``import lifetimes`` breaks on current pandas, so the file is found through the
    distribution's file list instead of the package's ``__file__``.
    """
    name = "CDNOW_sample.txt" if sample else "CDNOW_master.txt"
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError("the `lifetimes` distribution (which ships CDNOW) is not installed") from exc
    for file in dist.files or []:
        if file.name == name and file.parent.name == "datasets":
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"{name} not found in the installed `lifetimes` distribution")


def read_cdnow(sample: bool = False) -> Imported:
    """CDNOW as (transactions, customers, events) in the raw contract."""
    path = cdnow_path(sample)
    # The master file has a header line; the sample has none and a leading master-file id column.
    names = ["master_id", "customer", "date", "cds", "dollars"] if sample else ["customer", "date", "cds", "dollars"]
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        skiprows=0 if sample else 1,
        names=names,
        dtype={"master_id": str, "customer": str, "date": str, "cds": np.int64, "dollars": str},
    )
    invoice_date = pd.to_datetime(raw["date"], format="%Y%m%d")
    customer_id = raw["customer"].str.lstrip("0")
    transactions = pa.table(
        {
            "InvoiceNo": pa.array(pd.Series(np.arange(1, len(raw) + 1)).astype(str)),
            "StockCode": pa.array(np.full(len(raw), "CD")),
            "Description": pa.array(raw["cds"].astype(str) + np.where(raw["cds"] == 1, " CD", " CDs")),
            "Quantity": pa.array(np.ones(len(raw), dtype=np.int64)),
            "InvoiceDate": pa.array(invoice_date.to_numpy().astype("datetime64[us]")),
            "UnitPrice": pa.array(raw["dollars"]).cast(pa.decimal128(12, 2)),
            "CustomerID": pa.array(customer_id),
            "Country": pa.array(np.full(len(raw), "United States")),
            "Currency": pa.array(np.full(len(raw), "USD")),
        }
    )
    transactions = contracts.conform(transactions, "transactions")
    return Imported(transactions, customers_from_transactions(transactions), empty("events"), {})


def read_online_retail(path: Path) -> Imported:
    """An Online Retail (I or II) CSV or XLSX export as (transactions, customers, events).

    Lines with a negative UnitPrice ("Adjust bad debt" accounting entries, not sales) are left
    out and counted in ``removed``; every other line lands as it is.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (download the Online Retail export first)")
    if path.suffix.lower() in {".xlsx", ".xls"}:
        sheets = pd.read_excel(path, sheet_name=None, dtype={"StockCode": str, "Invoice": str, "InvoiceNo": str})
        frame = pd.concat(sheets.values(), ignore_index=True)
    else:
        frame = pd.read_csv(path, dtype={"StockCode": str, "Invoice": str, "InvoiceNo": str}, encoding_errors="replace")
    frame = frame.rename(columns=ONLINE_RETAIL_II_NAMES)
    required = [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: not an Online Retail export, missing column(s) {missing}")
    negative_price = frame["UnitPrice"].astype(float) < 0
    frame = frame.loc[~negative_price]
    customer = pd.to_numeric(frame["CustomerID"], errors="coerce")
    transactions = pa.table(
        {
            "InvoiceNo": pa.array(frame["InvoiceNo"].astype(str).str.strip()),
            "StockCode": pa.array(frame["StockCode"].astype(str).str.strip()),
            "Description": pa.array(frame["Description"].astype("string").str.strip(), type=pa.string()),
            "Quantity": pa.array(frame["Quantity"].astype(np.int64)),
            "InvoiceDate": pa.array(
                pd.to_datetime(frame["InvoiceDate"], format="mixed", dayfirst=False).to_numpy().astype("datetime64[us]")
            ),
            "UnitPrice": pa.array(frame["UnitPrice"].astype(float).round(2)).cast(pa.decimal128(12, 2)),
            "CustomerID": pa.array(customer.astype("Int64").astype("string"), type=pa.string()),
            "Country": pa.array(frame["Country"].astype(str)),
            "Currency": pa.array(np.full(len(frame), "GBP")),
        }
    )
    transactions = contracts.conform(transactions, "transactions")
    removed = {"negative_unit_price (accounting adjustments)": int(negative_price.sum())}
    return Imported(transactions, customers_from_transactions(transactions), empty("events"), removed)


def customers_from_transactions(transactions: pa.Table) -> pa.Table:
    """One CRM row per known customer: signed up at the first invoice, first invoice's country."""
    frame = transactions.select(["CustomerID", "InvoiceDate", "Country"]).to_pandas()
    frame = frame.dropna(subset=["CustomerID"]).sort_values(["CustomerID", "InvoiceDate"], kind="stable")
    first = frame.drop_duplicates("CustomerID", keep="first")
    n = len(first)
    nulls = pa.nulls(n, pa.string())
    table = pa.table(
        {
            "customer_id": pa.array(first["CustomerID"].to_numpy(), type=pa.string()),
            "email": nulls,
            "first_name": nulls,
            "last_name": nulls,
            "phone": nulls,
            "signup_date": pa.array(first["InvoiceDate"].dt.date.to_numpy(), type=pa.date32()),
            "acquisition_channel": pa.array(np.full(n, "unknown")),
            "country": pa.array(first["Country"].to_numpy(), type=pa.string()),
            "loyalty_status": nulls,
            "updated_at": pa.array(first["InvoiceDate"].to_numpy().astype("datetime64[us]")),
        }
    )
    return contracts.conform(table, "customers")


def empty(name: str) -> pa.Table:
    """An empty table with the raw contract's schema."""
    return contracts.RAW_SCHEMAS[name].empty_table()


def write_import(imported: Imported, lake_dir: Path) -> dict[str, int]:
    """Replace the lake's raw tables with an imported data set; returns partitions per table."""
    transactions, customers, events, _ = imported
    return landing.land_new_lake(
        lake_dir,
        {
            "transactions": transactions,
            "customers": customers,
            "events": events,
            "campaign_events": empty("campaign_events"),
        },
    )
