"""Customer value (marketing, product): who is worth what, how that changes, and why."""

import altair as alt
import streamlit as st
from common import chart, count, day, load, require, share, show_table, source_caption, usd

from clv_jobs.dashboard_data import Filters

st.title("Customer value")
if require("marts.dim_customer_clv", "marts.rpt_clv_distribution", "marts.fct_tier_migration"):
    values = load("filter_values")
    with st.sidebar:
        st.header("Filters")
        countries = st.multiselect("Country", values["countries"])
        channels = st.multiselect("Acquisition channel", values["channels"])
    filters = Filters(tuple(countries), tuple(channels))

    head = load("value_headline", filters)
    st.caption(
        f"Latest scores at {day(head['as_of_date'])}: predicted net revenue over the next "
        f"{count(head['horizon_days'])} days."
    )
    cols = st.columns(4)
    cols[0].metric("Customers scored", count(head["customers"]))
    cols[1].metric("Predicted CLV, total", usd(head["predicted_clv_total"]))
    cols[2].metric("Predicted CLV, mean", usd(head["predicted_clv_mean"]))
    cols[3].metric("Churn probability, mean", share(head["churn_probability_mean"]))

    st.subheader("Customers and predicted value by tier")
    tiers = load("tiers", filters)
    show_table(
        tiers.drop(columns=["value_tier_rank"]),
        {"customers": count, "predicted_clv_total": usd, "predicted_clv_mean": usd, "churn_probability_mean": share},
    )

    st.subheader("Distribution of predicted CLV over scoring dates")
    dist = load("distribution")
    dist["as_of_date"] = dist["as_of_date"].map(day)
    bands = list(dist.sort_values("band_lower_usd")["clv_band"].drop_duplicates())
    chart(
        alt.Chart(dist)
        .mark_bar()
        .encode(
            x=alt.X("as_of_date:N", title="scored as-of date"),
            y=alt.Y("customers:Q", stack="normalize", title="share of customers"),
            color=alt.Color("clv_band:N", sort=bands, title="predicted CLV (USD)"),
            order=alt.Order("band_lower_usd:Q"),
            tooltip=["as_of_date", "clv_band", "customers"],
        )
    )
    st.caption("All customers (the filters do not apply to this chart).")

    st.subheader("Tier migration since the previous scoring date")
    moves = load("tier_migration")
    if moves.empty:
        st.caption("One scoring date so far: nothing to compare.")
    else:
        st.caption(
            f"From {day(moves['previous_as_of_date'].iloc[0])} to {day(moves['as_of_date'].iloc[0])}; all customers."
        )
        order = list(moves.sort_values("to_tier_rank")["to_tier"].drop_duplicates())
        rows = list(moves.sort_values("from_tier_rank")["from_tier"].drop_duplicates())
        chart(
            alt.Chart(moves)
            .mark_rect()
            .encode(
                x=alt.X("to_tier:N", sort=order, title="tier now"),
                y=alt.Y("from_tier:N", sort=rows, title="tier before"),
                color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues")),
                tooltip=["from_tier", "to_tier", "customers"],
            )
        )
        matrix = moves.pivot_table(index="from_tier", columns="to_tier", values="customers", fill_value=0)
        matrix = matrix.reindex(index=rows, columns=order, fill_value=0).astype(int).reset_index()
        show_table(matrix.rename(columns={"from_tier": "tier before \\ now"}))

    st.subheader("Top customers")
    top = load("top_customers", filters)
    show_table(top, {"predicted_clv": usd, "churn_probability": share})

    st.subheader("By country and acquisition channel")
    left, right = st.columns(2)
    for column, label, side in (("country", "Country", left), ("acquisition_channel", "Acquisition channel", right)):
        frame = load("by_slice", filters, column)
        with side:
            chart(
                alt.Chart(frame)
                .mark_bar()
                .encode(
                    x=alt.X("predicted_clv_total:Q", title="predicted CLV, total (USD)"),
                    y=alt.Y("slice_value:N", sort="-x", title=label),
                    tooltip=["slice_value", "customers", "predicted_clv_total"],
                )
            )
            show_table(
                frame.rename(columns={"slice_value": label}),
                {
                    "customers": count,
                    "predicted_clv_total": usd,
                    "predicted_clv_mean": usd,
                    "churn_probability_mean": share,
                },
            )
    source_caption()
