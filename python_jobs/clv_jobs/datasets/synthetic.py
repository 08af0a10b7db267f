"""A seeded synthetic shop that lands the raw contract (DESIGN §4) in the lake.

Customers follow a Pareto/NBD-like process: each has a purchase rate (gamma across
customers), an exponential lifetime (gamma-distributed dropout rate) and a mean order value
(Gamma-Gamma). On top of that: Q4 seasonality, acquisition channels that differ in value,
a few whales, guest orders with no CustomerID, several countries and currencies, gift cards
with alphanumeric StockCodes, same-day cancellations and later returns (``C`` invoices),
loyalty changes in the CRM, and clickstream sessions that lead purchases.

Because the generator knows each customer's latent parameters, `synthetic_lake` also writes the
oracle: each customer's expected net revenue over ``(D, D + horizon]`` given those parameters
and whether the customer is still alive at D. No model can do better on average. The CRM and
clickstream tables are drawn in `synthetic_crm_web`, the calendar helpers live in
`synthetic_time`.

Everything is vectorized with NumPy; one ``numpy.random.Generator`` seeded once makes the
output a pure function of the arguments (same seed, same bytes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clv_jobs import contracts
from clv_jobs.currency import USD_PER_UNIT
from clv_jobs.datasets.synthetic_crm_web import clickstream_table, crm_table
from clv_jobs.datasets.synthetic_time import DAYS_PER_YEAR, day_to_month_index, timestamps

__all__ = ["ShopParams", "SyntheticShop", "generate_shop", "expected_net_order_value"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopParams:
    """Knobs of the synthetic shop; the defaults are what `clv-jobs generate` uses."""

    start: date = date(2021, 1, 1)
    end: date = date(2024, 12, 31)  # last day with data, inclusive
    clickstream_start: date = date(2021, 1, 1)
    web_order_share: float = 0.6  # the rest are phone or in-store orders, with no session
    browse_rate_per_purchase: float = 1.0  # background sessions per expected purchase, while alive
    anonymous_session_share: float = 0.1
    # Pareto/NBD heterogeneity: purchase rate per year ~ Gamma(r, scale), dropout rate ~ Gamma(s, scale).
    purchase_rate_shape: float = 0.9
    purchase_rate_mean: float = 5.0
    dropout_rate_shape: float = 1.5
    dropout_rate_mean: float = 0.5
    # Gamma-Gamma spend: order value ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma); mean p*gamma/(q-1).
    spend_p: float = 4.0
    spend_q: float = 3.5
    spend_gamma: float = 40.0
    whale_share: float = 0.003
    whale_rate_multiplier: float = 4.0
    whale_spend_multiplier: float = 8.0
    extra_lines_mean: float = 1.6  # lines per order = 1 + Poisson(this)
    gift_card_share: float = 0.03
    cancel_share: float = 0.02
    return_share: float = 0.05
    guest_order_share: float = 0.03
    crm_only_share: float = 0.05  # signed up, never bought
    n_products: int = 4000
    # A change of behaviour: every order from this day on is worth `spend_shift_multiplier` times
    # what it would have been (None: no shift). The oracle does not know about it.
    spend_shift_date: date | None = None
    spend_shift_multiplier: float = 1.0
    # Month multipliers (Jan..Dec) of the purchase rate: the Q4 peak. Normalized to mean 1.
    seasonality: tuple[float, ...] = (0.8, 0.8, 0.9, 0.9, 0.95, 0.95, 0.9, 0.9, 1.0, 1.1, 1.6, 1.9)
    channels: tuple[tuple[str, float, float, float], ...] = (
        # name, share, purchase-rate multiplier, spend multiplier
        ("organic_search", 0.30, 1.0, 1.0),
        ("paid_search", 0.25, 0.8, 0.9),
        ("social", 0.15, 0.6, 0.8),
        ("email", 0.10, 1.4, 1.1),
        ("referral", 0.10, 1.3, 1.2),
        ("affiliate", 0.10, 0.7, 0.85),
    )
    countries: tuple[tuple[str, str, float], ...] = (
        ("United Kingdom", "GBP", 0.45),
        ("Germany", "EUR", 0.12),
        ("France", "EUR", 0.10),
        ("Netherlands", "EUR", 0.06),
        ("Spain", "EUR", 0.05),
        ("United States", "USD", 0.12),
        ("Australia", "AUD", 0.05),
        ("Switzerland", "CHF", 0.05),
    )
    gift_card_codes: tuple[tuple[str, float], ...] = (
        ("GC-WINTER-25", 25.0),
        ("GC-WINTER-50", 50.0),
        ("GC-SUMMER-50", 50.0),
        ("GC-CLASSIC-100", 100.0),
    )

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def season_by_month(self) -> np.ndarray:
        s = np.asarray(self.seasonality, dtype=float)
        return s / s.mean()


@dataclass
class SyntheticShop:
    """Generated tables (raw contract) plus the latent parameters behind them."""

    params: ShopParams
    transactions: pa.Table
    customers: pa.Table
    events: pa.Table
    latent: pa.Table  # one row per buying customer: rates, spend, acquisition and death day
    counts: dict[str, int] = field(default_factory=dict)


def _customer_ids(n: int) -> np.ndarray:
    return np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))


def _catalog(rng: np.random.Generator, params: ShopParams) -> tuple[pa.Array, pa.Array, np.ndarray]:
    n = params.n_products
    numbers = rng.choice(np.arange(10000, 100000), size=n, replace=False)
    suffix = np.where(rng.random(n) < 0.15, rng.choice(list("ABCDEFGHJKLMNPRSTUVWXYZ"), n), "")
    codes = np.char.add(numbers.astype(str), suffix)
    adjectives = np.array(
        [
            "WHITE",
            "RED",
            "VINTAGE",
            "RETRO",
            "SET OF 3",
            "GLASS",
            "WOODEN",
            "PINK",
            "BLUE",
            "JUMBO",
            "PAPER",
            "HEART",
            "STAR",
            "REGENCY",
            "FELTCRAFT",
        ]
    )
    nouns = np.array(
        [
            "T-LIGHT HOLDER",
            "LUNCH BAG",
            "CAKE STAND",
            "TEA CUP",
            "BUNTING",
            "CANDLE",
            "DOORMAT",
            "NOTEBOOK",
            "CLOCK",
            "CUSHION COVER",
            "STORAGE TIN",
            "MUG",
            "PHOTO FRAME",
            "GARLAND",
            "CHRISTMAS TREE DECORATION",
        ]
    )
    descriptions = np.char.add(np.char.add(rng.choice(adjectives, n), " "), rng.choice(nouns, n))
    price_usd = np.round(np.exp(rng.normal(1.3, 0.8, n)), 2) + 0.25
    return pa.array(codes), pa.array(descriptions), price_usd


def _expected_inverse_lines(extra_lines_mean: float) -> float:
    """E[1/K] for K = 1 + Poisson(m): the expected share of an order one random line holds."""
    k = np.arange(0, 60)
    log_pmf = -extra_lines_mean + k * np.log(extra_lines_mean) - np.cumsum(np.log(np.maximum(k, 1)))
    return float(np.sum(np.exp(log_pmf) / (k + 1)))


def expected_net_order_value(params: ShopParams, mean_spend_usd: np.ndarray) -> np.ndarray:
    """Expected net revenue (USD) of one order: gross, plus gift cards, less cancellations and returns."""
    gift = params.gift_card_share * np.mean([v for _, v in params.gift_card_codes])
    kept = 1.0 - params.cancel_share
    returned = params.return_share * _expected_inverse_lines(params.extra_lines_mean) * mean_spend_usd
    return kept * (mean_spend_usd + gift - returned)


def generate_shop(
    n_customers: int,
    seed: int,
    params: ShopParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyntheticShop:
    """Generate the shop in memory. See the module docstring for what is in it."""
    params = params or ShopParams()
    say = progress or (lambda message: log.info(message))
    rng = np.random.default_rng(seed)
    n_days = params.n_days
    season = params.season_by_month()

    # --- customers and their latent parameters -------------------------------------------
    say(f"customers: {n_customers:,}")
    ids = _customer_ids(n_customers)
    channel_names = np.array([c[0] for c in params.channels])
    channel_idx = rng.choice(len(params.channels), n_customers, p=[c[1] for c in params.channels])
    rate_mult = np.array([c[2] for c in params.channels])[channel_idx]
    spend_mult = np.array([c[3] for c in params.channels])[channel_idx]
    country_names = np.array([c[0] for c in params.countries])
    country_currency = np.array([c[1] for c in params.countries])
    country_idx = rng.choice(len(params.countries), n_customers, p=[c[2] for c in params.countries])
    is_whale = rng.random(n_customers) < params.whale_share

    purchase_rate = (
        rng.gamma(params.purchase_rate_shape, params.purchase_rate_mean / params.purchase_rate_shape, n_customers)
        * rate_mult
        * np.where(is_whale, params.whale_rate_multiplier, 1.0)
    )
    dropout_rate = rng.gamma(
        params.dropout_rate_shape, params.dropout_rate_mean / params.dropout_rate_shape, n_customers
    )
    nu = rng.gamma(params.spend_q, 1.0 / params.spend_gamma, n_customers)
    mean_spend = params.spend_p / nu * spend_mult * np.where(is_whale, params.whale_spend_multiplier, 1.0)

    acquisition_day = rng.uniform(0, n_days - 1, n_customers)
    lifetime_days = rng.exponential(DAYS_PER_YEAR / dropout_rate)
    death_day = acquisition_day + lifetime_days
    buys = rng.random(n_customers) >= params.crm_only_share

    # --- orders: first purchase at acquisition, then a thinned Poisson process ---------------
    say("orders")
    active_end = np.minimum(death_day, n_days)
    active_years = np.maximum(active_end - acquisition_day, 0) / DAYS_PER_YEAR
    max_season = season.max()
    candidates = rng.poisson(purchase_rate * max_season * active_years * buys)
    cand_customer = np.repeat(np.arange(n_customers), candidates)
    cand_day = acquisition_day[cand_customer] + rng.random(cand_customer.size) * (
        active_end[cand_customer] - acquisition_day[cand_customer]
    )
    keep = rng.random(cand_day.size) < season[day_to_month_index(params, cand_day)] / max_season
    buyers = np.flatnonzero(buys)
    order_customer = np.concatenate([buyers, cand_customer[keep]])
    order_day = np.concatenate([acquisition_day[buyers], cand_day[keep]])
    order_country = country_idx[order_customer]

    n_guest = int(round(params.guest_order_share * order_customer.size))
    order_customer = np.concatenate([order_customer, np.full(n_guest, -1)])
    order_day = np.concatenate([order_day, rng.uniform(0, n_days, n_guest)])
    order_country = np.concatenate(
        [order_country, rng.choice(len(params.countries), n_guest, p=[c[2] for c in params.countries])]
    )
    guest_spend = params.spend_p * params.spend_gamma / (params.spend_q - 1)
    order_mean_spend = np.where(order_customer >= 0, mean_spend[np.maximum(order_customer, 0)], guest_spend)
    order_value = rng.gamma(params.spend_p, order_mean_spend / params.spend_p)
    if params.spend_shift_date is not None:
        shifted = order_day >= (params.spend_shift_date - params.start).days
        order_value = np.where(shifted, order_value * params.spend_shift_multiplier, order_value)

    time_order = np.argsort(order_day, kind="stable")
    order_customer, order_day, order_country, order_value = (
        order_customer[time_order],
        order_day[time_order],
        order_country[time_order],
        order_value[time_order],
    )
    n_orders = order_customer.size
    say(f"orders: {n_orders:,}")

    # --- lines: split each order's value across products ------------------------------------
    codes, descriptions, price_usd = _catalog(rng, params)
    lines_per_order = 1 + rng.poisson(params.extra_lines_mean, n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    weights = rng.exponential(1.0, line_order.size)  # Dirichlet(1, ..., 1) by normalized exponentials
    weight_sums = np.bincount(line_order, weights=weights, minlength=n_orders)
    line_value_usd = order_value[line_order] * weights / weight_sums[line_order]
    product = rng.integers(0, params.n_products, line_order.size)
    quantity = np.maximum(1, np.round(line_value_usd / price_usd[product])).astype(np.int64)

    # Gift cards: an extra line of a fixed USD face value on some orders.
    gift_orders = np.flatnonzero(rng.random(n_orders) < params.gift_card_share)
    gift_kind = rng.integers(0, len(params.gift_card_codes), gift_orders.size)
    gift_values = np.array([v for _, v in params.gift_card_codes])[gift_kind]

    usd_rate = np.array([USD_PER_UNIT[c] for c in country_currency])
    line_rate = usd_rate[order_country[line_order]]
    unit_price_local = np.round(line_value_usd / quantity / line_rate, 2)
    gift_price_local = np.round(gift_values / usd_rate[order_country[gift_orders]], 2)

    all_line_order = np.concatenate([line_order, gift_orders])
    all_quantity = np.concatenate([quantity, np.ones(gift_orders.size, dtype=np.int64)])
    all_price = np.concatenate([unit_price_local, gift_price_local])
    all_code = pa.concat_arrays(
        [codes.take(pa.array(product)), pa.array(np.array([c for c, _ in params.gift_card_codes])[gift_kind])]
    )
    all_desc = pa.concat_arrays(
        [descriptions.take(pa.array(product)), pa.array(np.full(gift_orders.size, "GIFT CARD"))]
    )
    line_seq = np.argsort(all_line_order, kind="stable")
    all_line_order, all_quantity, all_price = all_line_order[line_seq], all_quantity[line_seq], all_price[line_seq]
    all_code, all_desc = all_code.take(pa.array(line_seq)), all_desc.take(pa.array(line_seq))
    # Lines of one order are seconds apart, as a till or web checkout writes them.
    line_day = order_day[all_line_order]

    # --- cancellations (whole order, same day) and returns (one line, 3-30 days later) ------
    is_cancel = rng.random(n_orders) < params.cancel_share
    cancel_lines = np.flatnonzero(is_cancel[all_line_order])
    cancel_delay = rng.uniform(10, 240, n_orders) / (24 * 60)  # minutes after the order
    cancel_day = line_day[cancel_lines] + cancel_delay[all_line_order[cancel_lines]]
    # An order late on the last day is cancelled by its end: nothing lands after `end` (at 1M
    # customers 69 lines fell on the next day, a partial day the volume check rightly failed).
    cancel_day = np.minimum(cancel_day, n_days - 1e-6)
    first_line = np.r_[0, np.flatnonzero(np.diff(all_line_order)) + 1]
    return_orders = np.flatnonzero((rng.random(n_orders) < params.return_share) & ~is_cancel)
    # A returned line is one of the order's product lines; a stable sort put any gift-card line
    # last, and gift cards are not returnable.
    picked = first_line[return_orders] + (rng.random(return_orders.size) * lines_per_order[return_orders]).astype(
        np.int64
    )
    return_day = line_day[picked] + rng.uniform(3, 30, picked.size)
    in_range = return_day < n_days
    picked, return_day = picked[in_range], return_day[in_range]

    neg_lines = np.concatenate([cancel_lines, picked])
    neg_day = np.concatenate([cancel_day, return_day])
    neg_invoice_key = np.concatenate([all_line_order[cancel_lines], n_orders + np.arange(picked.size)])

    # Invoice numbers follow time, as a till's do; cancellations and returns get their own, C-prefixed.
    pos_invoice = 536_000 + all_line_order
    neg_rank = np.unique(neg_invoice_key, return_inverse=True)[1]
    neg_invoice = 536_000 + n_orders + neg_rank

    line_customer = order_customer[all_line_order]
    line_country = order_country[all_line_order]
    tx_customer = np.concatenate([line_customer, line_customer[neg_lines]])
    tx_country = np.concatenate([line_country, line_country[neg_lines]])
    tx_day = np.concatenate([line_day, neg_day])
    tx_quantity = np.concatenate([all_quantity, -all_quantity[neg_lines]])
    tx_price = np.concatenate([all_price, all_price[neg_lines]])
    tx_invoice_num = np.concatenate([pos_invoice, neg_invoice])
    tx_is_credit = np.concatenate([np.zeros(all_line_order.size, bool), np.ones(neg_lines.size, bool)])
    tx_code = pa.concat_arrays([all_code, all_code.take(pa.array(neg_lines))])
    tx_desc = pa.concat_arrays([all_desc, all_desc.take(pa.array(neg_lines))])

    # Lines in time order, as a till writes them (and the lake writer then copies nothing).
    tx_order = np.argsort(tx_day, kind="stable")
    tx_customer, tx_country, tx_day, tx_quantity, tx_price, tx_invoice_num, tx_is_credit = (
        a[tx_order] for a in (tx_customer, tx_country, tx_day, tx_quantity, tx_price, tx_invoice_num, tx_is_credit)
    )
    tx_code, tx_desc = tx_code.take(pa.array(tx_order)), tx_desc.take(pa.array(tx_order))
    del tx_order, cand_customer, cand_day, keep, weights, line_value_usd, product, line_order
    id_array = pa.array(ids)
    invoice = pc.cast(pa.array(tx_invoice_num), pa.string())
    invoice = pc.if_else(pa.array(tx_is_credit), pc.binary_join_element_wise("C", invoice, ""), invoice)
    customer_col = id_array.take(pa.array(tx_customer, mask=tx_customer < 0))
    transactions = pa.table(
        {
            "InvoiceNo": invoice,
            "StockCode": tx_code,
            "Description": tx_desc,
            "Quantity": pa.array(tx_quantity),
            "InvoiceDate": timestamps(params, tx_day),
            "UnitPrice": pc.cast(pa.array(tx_price), pa.decimal128(12, 2), safe=False),
            "CustomerID": customer_col,
            "Country": pa.array(country_names).take(pa.array(tx_country)),
            "Currency": pa.array(country_currency).take(pa.array(tx_country)),
        },
        schema=contracts.TRANSACTIONS,
    )
    say(f"transaction lines: {len(transactions):,}")
    # Free the line-level intermediates before the clickstream, the other big step (1M customers
    # would otherwise peak near 10 GB).
    del (
        all_line_order,
        all_quantity,
        all_price,
        all_code,
        all_desc,
        line_day,
        line_customer,
        line_country,
        tx_customer,
        tx_country,
        tx_day,
        tx_quantity,
        tx_price,
        tx_invoice_num,
        tx_is_credit,
        tx_code,
        tx_desc,
        customer_col,
        invoice,
        line_rate,
        unit_price_local,
        quantity,
        line_seq,
    )

    customers = crm_table(
        rng,
        params,
        ids,
        channel_names[channel_idx],
        country_names[country_idx],
        acquisition_day,
        order_customer,
        order_day,
    )
    say(f"CRM rows: {len(customers):,}")
    events = clickstream_table(
        rng, params, id_array, order_customer, order_day, purchase_rate, acquisition_day, active_end, buys
    )
    say(f"clickstream events: {len(events):,}")

    latent = pa.table(
        {
            "customer_id": id_array,
            "purchase_rate_per_year": purchase_rate,
            "dropout_rate_per_year": dropout_rate,
            "mean_order_value_usd": mean_spend,
            "acquisition_day": acquisition_day,
            "death_day": death_day,
            "is_whale": is_whale,
            "is_buyer": buys,
            "acquisition_channel": channel_names[channel_idx],
            "country": country_names[country_idx],
        }
    )
    counts = {
        "customers": int(buys.sum()),
        "crm_rows": len(customers),
        "orders": int(n_orders),
        "guest_orders": n_guest,
        "transaction_lines": len(transactions),
        "cancelled_orders": int(is_cancel.sum()),
        "returned_lines": int(picked.size),
        "gift_card_lines": int(gift_orders.size),
        "whales": int(is_whale.sum()),
        "events": len(events),
    }
    return SyntheticShop(params, transactions, customers, events, latent, counts)
