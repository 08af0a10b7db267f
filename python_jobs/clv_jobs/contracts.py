"""Raw-data contracts (DESIGN §4) as Arrow schemas.

The generator and every importer write exactly these schemas; the dbt sources read them.
The column order is part of the contract: dbt's `expect_table_columns_to_match_ordered_list`
test on each source fails the build when a landing changes it.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["RAW_SCHEMAS", "TRANSACTIONS", "CUSTOMERS", "EVENTS", "CAMPAIGN_EVENTS", "CAMPAIGN_EVENT_KINDS", "conform"]

TRANSACTIONS = pa.schema(
    [
        ("InvoiceNo", pa.string()),
        ("StockCode", pa.string()),
        ("Description", pa.string()),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("us")),
        ("UnitPrice", pa.decimal128(12, 2)),
        ("CustomerID", pa.string()),
        ("Country", pa.string()),
        ("Currency", pa.string()),
    ]
)

CUSTOMERS = pa.schema(
    [
        ("customer_id", pa.string()),
        ("email", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("phone", pa.string()),
        ("signup_date", pa.date32()),
        ("acquisition_channel", pa.string()),
        ("country", pa.string()),
        ("loyalty_status", pa.string()),
        ("updated_at", pa.timestamp("us")),
    ]
)

EVENTS = pa.schema(
    [
        ("event_id", pa.int64()),
        ("session_id", pa.int64()),
        ("customer_id", pa.string()),
        ("event_type", pa.string()),
        ("event_timestamp", pa.timestamp("us")),
    ]
)

# What a CRM's campaign tool exports: one row per campaign message event. Conversions and revenue
# are not in it: they are attributed from the order lines of the campaign's window.
CAMPAIGN_EVENTS = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("customer_id", pa.string()),
        ("event", pa.string()),
        ("event_at", pa.timestamp("us")),
    ]
)
CAMPAIGN_EVENT_KINDS = ("sent", "opened", "clicked", "unsubscribed")

RAW_SCHEMAS: dict[str, pa.Schema] = {
    "transactions": TRANSACTIONS,
    "customers": CUSTOMERS,
    "events": EVENTS,
    "campaign_events": CAMPAIGN_EVENTS,
}


def conform(table: pa.Table, name: str) -> pa.Table:
    """Select and cast `table` to the raw contract `name`; a missing column raises.

    Parameters
    ----------
    table : pa.Table
        Candidate landing; extra columns are dropped, columns are reordered.
    name : str
        One of ``transactions``, ``customers``, ``events``, ``campaign_events``.
    """
    schema = RAW_SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"raw.{name}: missing contract column(s) {missing}")
    return pa.table(
        [table.column(f.name).cast(f.type) for f in schema],
        schema=schema,
    )
