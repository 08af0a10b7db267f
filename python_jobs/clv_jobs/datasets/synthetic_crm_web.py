"""The synthetic shop's CRM change log and clickstream, drawn from its simulated customers and
orders (`synthetic.generate_shop` calls these with its own generator, so the bytes stay a pure
function of the seed)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from clv_jobs import contracts
from clv_jobs.datasets.synthetic_time import DAYS_PER_YEAR, SECONDS_PER_DAY, timestamps

__all__ = ["crm_table", "clickstream_table"]


def crm_table(rng, params, ids, channels, countries, acquisition_day, order_customer, order_day) -> pa.Table:
    """CRM rows: one at signup, then one per loyalty change (silver at 3 orders, gold at 8)."""
    n = ids.size
    first_names = np.array(["Olivia", "Noah", "Amelia", "Liam", "Mia", "Lucas", "Emma", "Hugo", "Sofia", "Jack"])
    last_names = np.array(["Smith", "Jones", "Muller", "Martin", "Garcia", "Brown", "Dubois", "Visser"])
    first = first_names[rng.integers(0, first_names.size, n)]
    last = last_names[rng.integers(0, last_names.size, n)]
    email = np.char.add(np.char.lower(np.char.add(np.char.add(first, "."), ids)), "@example.com")
    phone = np.char.add("+44 7700 ", np.char.zfill(rng.integers(0, 999_999, n).astype(str), 6))
    # Signups of non-buyers are spread like acquisitions; buyers sign up on their first order.
    signup_day = acquisition_day

    known = order_customer >= 0
    cust, day = order_customer[known], order_day[known]
    seq = np.lexsort((day, cust))
    cust, day = cust[seq], day[seq]
    first_idx = np.r_[0, np.flatnonzero(np.diff(cust)) + 1]
    rank = np.arange(cust.size) - np.repeat(first_idx, np.diff(np.r_[first_idx, cust.size]))
    change_rows = [(np.flatnonzero(rank == 2), "silver"), (np.flatnonzero(rank == 7), "gold")]

    row_customer = [np.arange(n)]
    row_day = [signup_day]
    row_status = [np.full(n, "bronze")]
    for idx, status in change_rows:
        row_customer.append(cust[idx])
        row_day.append(day[idx] + 1e-3)  # the CRM syncs moments after the qualifying order
        row_status.append(np.full(idx.size, status))
    rc = np.concatenate(row_customer)
    rd = np.concatenate(row_day)
    order = np.lexsort((rc, rd))
    rc, rd, rs = rc[order], rd[order], np.concatenate(row_status)[order]
    signup = np.datetime64(params.start) + np.floor(signup_day[rc]).astype("timedelta64[D]")
    return pa.table(
        {
            "customer_id": pa.array(ids[rc]),
            "email": pa.array(email[rc]),
            "first_name": pa.array(first[rc]),
            "last_name": pa.array(last[rc]),
            "phone": pa.array(phone[rc]),
            "signup_date": pa.array(signup.astype("datetime64[D]"), type=pa.date32()),
            "acquisition_channel": pa.array(channels[rc]),
            "country": pa.array(countries[rc]),
            "loyalty_status": pa.array(rs),
            "updated_at": timestamps(params, rd),
        },
        schema=contracts.CUSTOMERS,
    )


def clickstream_table(
    rng, params, id_array, order_customer, order_day, purchase_rate, acquisition_day, active_end, buys
) -> pa.Table:
    """Sessions before and at each web order, background browsing while alive, anonymous traffic.

    Browsing stops when a customer drops out, so recent sessions tell an observer that a customer
    is still alive: information that purchase history alone (what BTYD models see) lacks.
    """
    start = (params.clickstream_start - params.start).days
    n_days = params.n_days
    web = rng.random(order_customer.size) < params.web_order_share
    known = (order_customer >= 0) & (order_day >= start) & web
    oc, od = order_customer[known], order_day[known]
    # The checkout session ends at the order; a few research sessions in the two weeks before.
    n_before = rng.poisson(0.3, oc.size)
    before_customer = np.repeat(oc, n_before)
    before_day = np.repeat(od, n_before) - rng.uniform(0.2, 14, before_customer.size)
    # Background browsing at a rate tied to the purchase rate, while the customer is alive.
    window = np.maximum(np.minimum(active_end, n_days) - np.maximum(acquisition_day, start), 0)
    n_bg = rng.poisson(params.browse_rate_per_purchase * purchase_rate * window / DAYS_PER_YEAR * buys)
    bg_customer = np.repeat(np.arange(len(id_array)), n_bg)
    bg_day = np.maximum(acquisition_day[bg_customer], start) + rng.random(bg_customer.size) * window[bg_customer]
    n_anon = int(params.anonymous_session_share * (oc.size + before_customer.size + bg_customer.size))
    anon_day = rng.uniform(start, n_days, n_anon)

    s_customer = np.concatenate([oc, before_customer, bg_customer, np.full(n_anon, -1)])
    s_end_day = np.concatenate([od, before_day, bg_day, anon_day])
    s_is_checkout = np.concatenate([np.ones(oc.size, bool), np.zeros(s_customer.size - oc.size, bool)])
    s_events = 1 + rng.poisson(1.5, s_customer.size) + 2 * s_is_checkout
    keep = s_end_day >= start
    s_customer, s_end_day, s_is_checkout, s_events = (
        s_customer[keep],
        s_end_day[keep],
        s_is_checkout[keep],
        s_events[keep],
    )
    n_sessions = s_customer.size

    e_session = np.repeat(np.arange(n_sessions), s_events)
    gaps = rng.exponential(60.0 / SECONDS_PER_DAY, e_session.size)  # about a minute between events
    csum = np.cumsum(gaps)
    first_event = np.r_[0, np.cumsum(s_events)[:-1]]
    session_total = np.add.reduceat(gaps, first_event)
    offset_from_start = csum - np.repeat(csum[first_event] - gaps[first_event], s_events)
    e_day = np.repeat(s_end_day - session_total, s_events) + offset_from_start
    position_from_end = np.repeat(first_event + s_events, s_events) - np.arange(e_session.size)
    # Event types as small integer codes (a string array of tens of millions would cost GBs).
    event_types = pa.array(["page_view", "product_view", "search", "add_to_cart", "checkout"])
    e_type = rng.choice(4, e_session.size, p=[0.5, 0.3, 0.12, 0.08]).astype(np.int8)
    checkout = s_is_checkout[e_session]
    e_type[checkout & (position_from_end == 1)] = 4
    e_type[checkout & (position_from_end == 2)] = 3
    del checkout, position_from_end, gaps, csum, offset_from_start
    valid = (e_day >= start) & (e_day < n_days)
    e_session, e_day, e_type = e_session[valid], e_day[valid], e_type[valid]

    # Time order, so event ids follow time and the lake writer finds days already sorted.
    seq = np.argsort(e_day, kind="stable")
    e_session, e_day, e_type = e_session[seq], e_day[seq], e_type[seq]
    del seq
    e_customer = s_customer[e_session]
    return pa.table(
        {
            "event_id": pa.array(np.arange(1, e_session.size + 1, dtype=np.int64)),
            "session_id": pa.array(e_session.astype(np.int64) + 1),
            "customer_id": id_array.take(pa.array(e_customer, mask=e_customer < 0)),
            "event_type": event_types.take(pa.array(e_type)),
            "event_timestamp": timestamps(params, e_day),
        },
        schema=contracts.EVENTS,
    )
