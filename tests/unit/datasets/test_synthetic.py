"""The synthetic shop: deterministic, on contract, with the anomalies it promises."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from clv_jobs import contracts
from clv_jobs.currency import USD_PER_UNIT
from clv_jobs.datasets import synthetic, synthetic_lake


def _digest(lake: Path) -> dict[str, str]:
    # The landing ledger records when each file was checked (an audit column): data only here.
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
        if p.relative_to(lake).parts[0] != "landing"
    }


def test_same_seed_writes_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        shop = synthetic.generate_shop(300, seed=5)
        synthetic_lake.write_shop(shop, tmp_path / name, oracle_as_of=[date(2023, 12, 31)])
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert first and first == second


def test_another_seed_changes_the_data():
    a = synthetic.generate_shop(300, seed=5).transactions
    b = synthetic.generate_shop(300, seed=6).transactions
    assert not a.equals(b)


def test_tables_follow_the_raw_contract(small_shop):
    assert small_shop.transactions.schema == contracts.TRANSACTIONS
    assert small_shop.customers.schema == contracts.CUSTOMERS
    assert small_shop.events.schema == contracts.EVENTS


def test_planted_anomalies_are_present(small_shop):
    tx = small_shop.transactions.to_pandas()
    assert tx["CustomerID"].isna().mean() > 0.01, "guest lines with null CustomerID"
    credits = tx[tx["InvoiceNo"].str.startswith("C")]
    assert len(credits) > 0 and (credits["Quantity"] < 0).all(), "C invoices carry negative quantities"
    assert (tx.loc[~tx["InvoiceNo"].str.startswith("C"), "Quantity"] > 0).all()
    gift = tx[tx["StockCode"].str.startswith("GC-")]
    assert len(gift) > 0 and gift["StockCode"].str.match(r"^GC-[A-Z]+-\d+$").all()
    assert set(tx["Currency"]) == set(USD_PER_UNIT), "every demo currency appears"
    assert tx["Country"].nunique() >= 5
    assert small_shop.latent.column("is_whale").to_numpy().sum() >= 1


def test_q4_has_more_orders_than_the_rest_of_the_year(small_shop):
    tx = small_shop.transactions.to_pandas()
    orders = tx.drop_duplicates("InvoiceNo")
    month = orders["InvoiceDate"].dt.month
    per_month = orders.groupby(month).size() / orders.groupby(month)["InvoiceDate"].apply(
        lambda s: s.dt.to_period("M").nunique()
    )
    assert per_month.loc[[11, 12]].mean() > 1.3 * per_month.loc[[1, 2, 3, 4, 5, 6]].mean()


def test_channels_differ_in_value(small_shop):
    latent = small_shop.latent.to_pandas()
    value = (
        (latent["purchase_rate_per_year"] * latent["mean_order_value_usd"])
        .groupby(latent["acquisition_channel"])
        .mean()
    )
    assert value["referral"] > 1.5 * value["social"]


def test_crm_records_loyalty_changes_after_signup(small_shop):
    crm = small_shop.customers.to_pandas()
    statuses = crm.groupby("customer_id")["loyalty_status"].apply(list)
    upgraded = statuses[statuses.apply(len) > 1]
    assert len(upgraded) > 0
    assert all(s[0] == "bronze" and s[1] == "silver" for s in upgraded)
    assert crm.groupby("customer_id")["updated_at"].is_monotonic_increasing.all()


def test_clickstream_intensity_leads_purchases(small_shop):
    """Identified sessions are denser in the 14 days before a customer's order than on average."""
    events = small_shop.events.to_pandas().dropna(subset=["customer_id"])
    tx = small_shop.transactions.to_pandas().dropna(subset=["CustomerID"])
    orders = tx[~tx["InvoiceNo"].str.startswith("C")].drop_duplicates("InvoiceNo")
    orders = orders[orders["InvoiceDate"] >= "2023-02-01"]
    sessions = events.groupby("session_id").agg(customer_id=("customer_id", "first"), start=("event_timestamp", "min"))
    joined = orders.merge(sessions, left_on="CustomerID", right_on="customer_id")
    gap_days = (joined["InvoiceDate"] - joined["start"]).dt.total_seconds() / 86400
    before = ((gap_days > 0.5) & (gap_days <= 14.5)).sum() / len(orders) / 14
    baseline = len(sessions) / sessions["customer_id"].nunique() / 730
    assert before > 3 * baseline


def test_oracle_matches_realized_revenue_on_average():
    """The oracle's mean expected revenue is within 8% of what customers then spent."""
    shop = synthetic.generate_shop(6_000, seed=3)
    as_of = date(2023, 12, 31)
    oracle = synthetic_lake.oracle_revenue(shop, as_of, 365).to_pandas().set_index("customer_id")
    tx = shop.transactions.to_pandas().dropna(subset=["CustomerID"])
    rate = tx["Currency"].map(USD_PER_UNIT)
    tx["usd"] = tx["Quantity"] * tx["UnitPrice"].astype(float) * rate
    after = tx[(tx["InvoiceDate"] >= "2024-01-01") & (tx["InvoiceDate"] < "2025-01-01")]
    realized = after.groupby("CustomerID")["usd"].sum().reindex(oracle.index).fillna(0)
    ratio = realized.mean() / oracle["expected_revenue_usd"].mean()
    assert ratio == pytest.approx(1.0, abs=0.08)
    assert np.corrcoef(realized, oracle["expected_revenue_usd"])[0, 1] > 0.7
    assert (oracle.loc[~oracle["is_alive"], "expected_revenue_usd"] == 0).all()


def test_oracle_excludes_customers_not_yet_acquired():
    shop = synthetic.generate_shop(500, seed=2)
    oracle = synthetic_lake.oracle_revenue(shop, date(2021, 6, 30), 365)
    acquired = shop.latent.filter(pc.less(shop.latent.column("acquisition_day"), 181.0))
    buyers = pc.sum(acquired.column("is_buyer")).as_py()
    assert len(oracle) == buyers


def test_nothing_lands_after_the_last_day():
    # Many cancellations: an order late on the last day would otherwise be cancelled after midnight.
    params = synthetic.ShopParams(start=date(2024, 10, 1), end=date(2024, 12, 31), cancel_share=0.5)
    shop = synthetic.generate_shop(3_000, seed=3, params=params)
    for table, column in (("transactions", "InvoiceDate"), ("customers", "updated_at"), ("events", "event_timestamp")):
        last = pc.max(getattr(shop, table).column(column)).as_py()
        assert last.date() <= params.end, f"{table}.{column} reaches {last}"
