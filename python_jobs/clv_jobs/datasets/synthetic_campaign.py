"""A simulated campaign on the synthetic shop: what the CRM's campaign tool and the shop would
land over an experiment's window, from the latent truth only the generator knows.

Every alive customer keeps buying at their latent rate (organic orders). A customer in the
audience is sent the message; their response depends on a latent responsiveness (a keyed hash
of the customer: the same for every campaign) and on their true expected value (the oracle), so
an audience chosen by a better model converts more and spends more. `true_lift` multiplies the
treatment group's conversion probability (a planted effect, e.g. for tests); unsubscribes are
likelier among the unresponsive.

The output is raw landings in the contract: `campaign_events` and `transactions` partitions by
day, checked by `clv-jobs check-landing` like any other landing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from clv_jobs import contracts, experiment_stats, lake

__all__ = ["CampaignParams", "simulate_campaign", "write_campaign"]


@dataclass(frozen=True)
class CampaignParams:
    days: int
    true_lift: float = 0.0
    seed: int = 0
    max_conversion: float = 0.35  # a fully responsive, high-value customer's conversion probability
    value_scale_usd: float = 300.0  # expected 12-month revenue at which the value factor reaches 63 %


def responsiveness(customer_ids) -> np.ndarray:
    """Each customer's latent responsiveness to campaigns in [0, 1] (Beta(2, 3): mean 0.4)."""
    u = np.fromiter((experiment_stats.bucket("responsiveness", c) for c in customer_ids), dtype=float)
    return stats.beta.ppf(u, 2, 3)


def simulate_campaign(
    assignments: pd.DataFrame,
    latent: pd.DataFrame,
    oracle: pd.DataFrame,
    last_orders: pd.DataFrame,
    usd_per_unit: dict[str, float],
    campaign_id: str,
    starts_on: date,
    params: CampaignParams,
) -> tuple[pa.Table, pa.Table]:
    """(campaign_events, transactions) over [starts_on, starts_on + days).

    `assignments`: customer_id, group_name, is_targeted. `latent`: the generator's customer_latent
    (purchase_rate_per_year, mean_order_value_usd). `oracle`: expected_revenue_usd and is_alive at
    the scored date. `last_orders`: each customer's Country and Currency (their latest order line).
    """
    rng = np.random.default_rng([params.seed, int(experiment_stats.bucket(campaign_id, "seed") * 2**32)])
    people = latent.set_index("customer_id").join(oracle.set_index("customer_id"), how="inner")
    people = people[people["is_alive"]].join(last_orders.set_index("customer_id"), how="inner")
    window = np.arange(params.days)

    # organic orders: the latent rate, uniform days
    organic = rng.poisson(people["purchase_rate_per_year"].to_numpy() / 365.25 * params.days)
    who = np.repeat(people.index.to_numpy(), organic)
    orders = pd.DataFrame({"customer_id": who, "day": rng.choice(window, who.size), "source": "organic"})

    audience = assignments[assignments["is_targeted"]].set_index("customer_id").join(people, how="inner")
    r = responsiveness(audience.index)
    unsubscribed = rng.random(len(audience)) < 0.01 + 0.03 * (1 - r)
    value = 1 - np.exp(-audience["expected_revenue_usd"].to_numpy() / params.value_scale_usd)
    p = params.max_conversion * r * value
    p = np.where(audience["group_name"].to_numpy() == "treatment", p * (1 + params.true_lift), p)
    converted = (rng.random(len(audience)) < np.clip(p, 0, 1)) & ~unsubscribed
    opened = converted | (rng.random(len(audience)) < 0.2 + 0.5 * r)
    clicked = converted | (opened & (rng.random(len(audience)) < 0.3 * r))
    campaign_orders = pd.DataFrame(
        {"customer_id": audience.index[converted], "day": rng.choice(window, converted.sum()), "source": "campaign"}
    )
    orders = pd.concat([orders, campaign_orders], ignore_index=True)

    start = datetime.combine(starts_on, datetime.min.time())
    events = []
    for kind, mask, day in (
        ("sent", np.ones(len(audience), bool), np.zeros(len(audience))),
        ("opened", opened, rng.integers(0, min(3, params.days), len(audience))),
        ("clicked", clicked, rng.integers(0, min(3, params.days), len(audience))),
        ("unsubscribed", unsubscribed, rng.integers(0, min(3, params.days), len(audience))),
    ):
        at = [start + timedelta(days=int(d), hours=9 + (kind != "sent") * 3) for d in day[mask]]
        events.append(pd.DataFrame({"customer_id": audience.index[mask], "event": kind, "event_at": at}))
    events = pd.concat(events, ignore_index=True).assign(campaign_id=campaign_id)

    orders = orders.join(people[["mean_order_value_usd", "Country", "Currency"]], on="customer_id")
    usd = rng.gamma(4.0, orders["mean_order_value_usd"].to_numpy() / 4.0)
    rate = orders["Currency"].map(usd_per_unit).to_numpy(dtype=float)
    orders = orders.sort_values(["day", "customer_id"], kind="stable").reset_index(drop=True)
    usd, rate = usd[orders.index], rate[orders.index]
    minutes = rng.integers(0, 600, len(orders))
    moments = [
        start + timedelta(days=int(d), hours=10, minutes=int(m)) for d, m in zip(orders["day"], minutes, strict=True)
    ]
    transactions = pa.table(
        {
            "InvoiceNo": [f"S{campaign_id[-8:]}{i:07d}" for i in range(len(orders))],
            "StockCode": np.where(orders["source"] == "campaign", "90001", "90002").tolist(),
            "Description": np.where(orders["source"] == "campaign", "CAMPAIGN OFFER", "ASSORTED GIFTS").tolist(),
            "Quantity": np.ones(len(orders), dtype=np.int64),
            "InvoiceDate": pa.array(moments, pa.timestamp("us")),
            "UnitPrice": pa.array([f"{v:.2f}" for v in np.maximum(usd / rate, 0.01)]).cast(pa.decimal128(12, 2)),
            "CustomerID": orders["customer_id"].tolist(),
            "Country": orders["Country"].tolist(),
            "Currency": orders["Currency"].tolist(),
        }
    )
    campaign = pa.Table.from_pandas(events[list(contracts.CAMPAIGN_EVENTS.names)], preserve_index=False)
    return contracts.conform(campaign, "campaign_events"), contracts.conform(transactions, "transactions")


def write_campaign(lake_dir: Path, campaign_events: pa.Table, transactions: pa.Table) -> dict[str, int]:
    """Land the simulated days as new raw partitions (one per day; earlier landings untouched: a
    day already landed is refused, the simulation never rewrites history)."""
    days = {f"ingest_date={d}" for d in pd.to_datetime(transactions.column("InvoiceDate").to_pandas()).dt.date}
    landed = days & {p.name for p in lake.raw_dir(Path(lake_dir), "transactions").iterdir()}
    if landed:
        raise ValueError(
            f"raw.transactions already has {sorted(landed)[0]}: a campaign starts after the lake's last day"
        )
    return {
        name: lake.write_partitioned(
            table,
            lake.raw_dir(Path(lake_dir), name),
            "event_at" if name == "campaign_events" else "InvoiceDate",
            clear=False,
        )
        for name, table in (("campaign_events", campaign_events), ("transactions", transactions))
    }


def read_rates(seed_path: Path) -> dict[str, float]:
    with Path(seed_path).open(newline="") as fh:
        return {row["currency_code"]: float(row["usd_per_unit"]) for row in csv.DictReader(fh)}
