"""The synthetic shop in the lake: its raw tables through the landing guard, and the oracle — each
customer's expected net revenue over (D, D + horizon] from the latent parameters the generator
knows. No model can do better on average."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clv_jobs import contracts, lake, landing
from clv_jobs.datasets.synthetic import SyntheticShop, expected_net_order_value
from clv_jobs.datasets.synthetic_time import DAYS_PER_YEAR, day_to_month_index

__all__ = ["oracle_revenue", "write_shop"]


def oracle_revenue(shop: SyntheticShop, as_of: date, horizon_days: int = 365) -> pa.Table:
    """Each acquired customer's expected net revenue (USD) over (as_of, as_of + horizon].

    Uses the latent purchase and dropout rates, mean order value and whether the customer is
    still alive at the end of `as_of`. The purchase rate is piecewise constant by calendar month
    (seasonality), so the integral of rate x survival is exact per month segment.
    """
    params = shop.params
    latent = shop.latent
    d = (as_of - params.start).days + 1.0  # end of the as-of day, in day offsets
    acquired = latent.column("acquisition_day").to_numpy() < d
    buyer = latent.column("is_buyer").to_numpy()
    sel = np.flatnonzero(acquired & buyer)
    lam = latent.column("purchase_rate_per_year").to_numpy()[sel] / DAYS_PER_YEAR
    mu = latent.column("dropout_rate_per_year").to_numpy()[sel] / DAYS_PER_YEAR
    alive = latent.column("death_day").to_numpy()[sel] > d
    spend = latent.column("mean_order_value_usd").to_numpy()[sel]

    season = params.season_by_month()
    edges = [d]
    cursor = np.datetime64(as_of) + np.timedelta64(1, "D")
    stop = np.datetime64(as_of) + np.timedelta64(horizon_days + 1, "D")
    while cursor < stop:
        nxt = min((cursor.astype("datetime64[M]") + 1).astype("datetime64[D]"), stop)
        edges.append(edges[-1] + float((nxt - cursor).astype(int)))
        cursor = nxt
    months = day_to_month_index(params, np.asarray(edges[:-1], dtype=float))
    expected_orders = np.zeros(sel.size)
    for (a, b), m in zip(zip(edges[:-1], edges[1:], strict=True), months, strict=True):
        # integral of exp(-mu (t - d)) over [a, b]
        expected_orders += season[m] * (np.exp(-mu * (a - d)) - np.exp(-mu * (b - d))) / mu
    expected = np.where(alive, lam * expected_orders * expected_net_order_value(params, spend), 0.0)
    return pa.table(
        {
            "customer_id": latent.column("customer_id").take(pa.array(sel)),
            "as_of_date": pa.array(np.full(sel.size, np.datetime64(as_of, "D")), type=pa.date32()),
            "horizon_days": pa.array(np.full(sel.size, horizon_days, dtype=np.int32)),
            "is_alive": pa.array(alive),
            "expected_revenue_usd": pa.array(expected),
        }
    )


def write_shop(
    shop: SyntheticShop,
    lake_dir: Path,
    oracle_as_of: Sequence[date] = (),
    horizon_days: int = 365,
) -> dict[str, int]:
    """Land the shop's raw tables in `lake_dir` (date partitions) and the oracle beside them."""
    lake_dir = Path(lake_dir)
    partitions = landing.land_new_lake(
        lake_dir,
        {
            "transactions": shop.transactions,
            "customers": shop.customers,
            "events": shop.events,
            # campaigns come later (clv-jobs experiment simulate); the table exists from the start
            "campaign_events": contracts.RAW_SCHEMAS["campaign_events"].empty_table(),
        },
    )
    oracle_dir = lake_dir / "oracle"
    lake.replace_partition(shop.latent, oracle_dir / "customer_latent")
    for as_of in oracle_as_of:
        lake.replace_partition(
            oracle_revenue(shop, as_of, horizon_days), oracle_dir / "expected_revenue" / f"as_of_date={as_of}"
        )
    return partitions


# Ids a copied day must not repeat (unique keys and invoices): moved past the copied day's own.
_NEW_DAY_ID_COLUMNS = {"events": ("event_id", "session_id"), "transactions": ("InvoiceNo",)}


def _shift_ids(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """`table` with each of `columns` moved past its own largest value: integers by their span,
    numeric strings (an invoice, "C" for its cancellation) likewise, keeping the prefix."""
    for column in columns:
        values = table.column(column)
        if pa.types.is_integer(values.type):
            span = pc.max(values).as_py() - pc.min(values).as_py() + 1
            shifted = pc.add(values, span)
        else:
            text = values.to_pylist()
            numbers = [int(v.lstrip("Cc")) for v in text]
            span = max(numbers) - min(numbers) + 1
            shifted = pa.array(
                [v[: len(v) - len(v.lstrip("Cc"))] + str(n + span) for v, n in zip(text, numbers, strict=True)]
            )
        table = table.set_column(table.schema.get_field_index(column), column, shifted.cast(values.type))
    return table


def land_next_day(lake_dir: Path) -> str | None:
    """Land one more day into every raw table: the newest day's files again (orders without their
    returns and cancellations), one day later, with new ids (new content, so the guard accepts
    them). Returns the new day (None: nothing landed)."""
    one_day = pa.scalar(86_400_000_000, pa.duration("us"))
    new_day = None
    for name, column in landing.EVENT_TIME_COLUMNS.items():
        files = landing.landed_files(lake_dir, name)
        table = pq.read_table(files[-1]) if files else None
        if table is None or table.num_rows == 0:  # e.g. a shop without campaign events lands an empty placeholder
            continue
        shifted = pc.add(table.column(column), one_day)
        table = _shift_ids(
            table.set_column(table.schema.get_field_index(column), column, shifted), _NEW_DAY_ID_COLUMNS.get(name, ())
        )
        if name == "transactions":
            # The day's orders only: a copied return or cancellation would return what its
            # customer bought once a second time (a return rate above 1).
            table = table.filter(pc.greater(table.column("Quantity"), 0))
        day = str(pc.max(shifted).as_py().date())
        new_day = new_day or day
        folder = lake.raw_dir(lake_dir, name) / f"ingest_date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet")
    return new_day
