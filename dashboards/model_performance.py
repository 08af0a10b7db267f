"""Model performance (data science): is the champion better than the baselines, does it hold up
on what customers then spent, and why does it predict what it does."""

import altair as alt
import pandas as pd
import streamlit as st
from common import chart, count, day, load, require, share, show_table, source_caption, usd


def over_scored_dates(frame: pd.DataFrame, measures: list[str], title: str) -> alt.Chart:
    """One line per measure over the scored as-of dates."""
    long = frame.melt(id_vars=["scored_as_of_date"], value_vars=measures, var_name="measure")
    long["scored_as_of_date"] = long["scored_as_of_date"].map(day)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("scored_as_of_date:N", title="scored as-of date"),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
            color="measure:N",
        )
    )


st.title("Model performance")
if require("marts.dim_customer_clv", "marts.fct_model_evaluations", "marts.fct_model_backtest"):
    version = load("scoring_version")
    table = load("champion_vs_baselines", version)
    backtests = load("backtests")
    champion = table[table["model_name"] == "xgboost"].iloc[0] if not table.empty else None
    cols = st.columns(4)
    cols[0].metric("Scoring model version", version or "n/a")
    cols[1].metric("Test RMSE (USD)", "n/a" if champion is None else f"{champion['rmse']:,.2f}")
    cols[2].metric("Test normalized Gini", "n/a" if champion is None else f"{champion['normalized_gini']:.3f}")
    latest = backtests.iloc[-1] if not backtests.empty else None
    cols[3].metric(
        "Realized normalized Gini (latest backtest)", "n/a" if latest is None else f"{latest['normalized_gini']:.3f}"
    )

    st.subheader("Champion against each baseline")
    if champion is not None:
        st.caption(
            f"Held-out test as-of date {day(table['test_as_of_date'].iloc[0])}; lower RMSE and higher Gini are better."
        )
        chart(
            alt.Chart(table)
            .mark_bar()
            .encode(
                x=alt.X("rmse:Q", title="RMSE (USD)"),
                y=alt.Y("model_name:N", sort="x", title="model"),
                color=alt.condition(alt.datum.model_name == "xgboost", alt.value("#d62728"), alt.value("#4c78a8")),
                tooltip=["model_name", "rmse", "normalized_gini", "bias"],
            )
        )
        show_table(
            table[["model_name", "rmse", "mae", "normalized_gini", "spearman", "top10_capture", "bias"]],
            {
                "rmse": "{:,.2f}".format,
                "mae": "{:,.2f}".format,
                "normalized_gini": "{:.3f}".format,
                "spearman": "{:.3f}".format,
                "top10_capture": share,
                "bias": "{:+.1%}".format,
            },
        )

    st.subheader("Realized backtests over time")
    if backtests.empty:
        st.caption("No scored date has matured yet.")
    else:
        chart(over_scored_dates(backtests, ["normalized_gini", "test_normalized_gini"], "normalized Gini"))
        show_table(
            backtests,
            {"customers": count, "rmse": "{:,.2f}".format, "top10_capture": share, "bias": "{:+.1%}".format},
        )

    st.subheader("30-day proxy over time")
    proxy = load("proxy")
    if proxy.empty:
        st.caption("No scored date's 30 days have passed yet.")
    else:
        chart(over_scored_dates(proxy, ["spearman", "reference_spearman"], "Spearman with the next 30 days' spend"))
        st.caption("A drop of more than 20 % below the reference (the model's own test date) triggers retraining.")

    left, right = st.columns(2)
    with left:
        st.subheader("Calibration by decile (test date)")
        deciles = load("evaluation_slice", version, "decile")
        if deciles.empty:
            st.caption("No calibration landed for this version.")
        else:
            deciles["decile"] = deciles["slice_value"].astype(int)
            long = deciles.melt(id_vars=["decile"], value_vars=["mean_predicted", "mean_actual"], var_name="measure")
            chart(
                alt.Chart(long)
                .mark_bar()
                .encode(
                    x=alt.X("decile:O", title="decile of predicted CLV (1 = highest)"),
                    xOffset="measure:N",
                    y=alt.Y("value:Q", title="mean per customer (USD)"),
                    color="measure:N",
                )
            )
    with right:
        st.subheader("Global SHAP importance")
        importance = load("evaluation_slice", version, "feature")
        if importance.empty:
            st.caption("No importance landed for this version.")
        else:
            top = importance.sort_values("mean_abs_shap", ascending=False).head(15)
            chart(
                alt.Chart(top)
                .mark_bar()
                .encode(
                    x=alt.X("mean_abs_shap:Q", title="mean |SHAP| (model output scale)"),
                    y=alt.Y("slice_value:N", sort="-x", title="feature"),
                )
            )

    st.subheader("KPIs by predicted cohort (realized, 30 days)")
    cohorts = load("kpi_cohorts")
    if cohorts.empty:
        st.caption("No scored date's 30 days have passed yet.")
    else:
        st.caption(f"Customers scored at {day(cohorts['scored_as_of_date'].iloc[0])}, by predicted CLV.")
        show_table(
            cohorts.drop(columns=["scored_as_of_date"]),
            {
                "customers": count,
                "buyers": count,
                "realized_revenue_usd": usd,
                "realized_aov_usd": "${:,.2f}".format,
                "churn_rate": share,
            },
        )

    st.subheader("Model decisions")
    show_table(load("decisions"))
    source_caption()
