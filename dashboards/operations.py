"""Operations (MLOps, on call): did the pipeline run, is the data sound, are inputs or
predictions drifting, what alerted."""

import altair as alt
import pandas as pd
import streamlit as st
from common import chart, count, day, first_line, load, require, show_table, source_caption

BANDS = pd.DataFrame({"psi": [0.1, 0.25], "band": ["warn 0.1", "alert 0.25"]})


def psi_chart(frame: pd.DataFrame) -> alt.LayerChart:
    frame = frame.assign(as_of_date=frame["as_of_date"].map(day))
    lines = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("as_of_date:N", title="monitored as-of date"),
            y=alt.Y("psi:Q", title="PSI vs training"),
            color=alt.Color("feature_name:N", title="column"),
            tooltip=["as_of_date", "feature_name", "psi", "drift_status"],
        )
    )
    rules = alt.Chart(BANDS).mark_rule(strokeDash=[4, 4], color="#d62728").encode(y="psi:Q", tooltip=["band"])
    return lines + rules


st.title("Operations")
if require("marts.fct_pipeline_runs", "marts.fct_feature_drift", "marts.fct_alerts", "quality.rpt_staging_rule_counts"):
    head = load("pipeline_headline")
    latest = load("latest_drift")
    alerts = load("alerts")
    cols = st.columns(4)
    cols[0].metric("Pipeline steps recorded", count(head["steps"]))
    cols[1].metric("Failed steps", count(head["failed_steps"]))
    cols[2].metric("Worst PSI (latest monitoring)", "n/a" if latest.empty else f"{latest['psi'].iloc[0]:.3f}")
    cols[3].metric("Alerts raised", count(head["alerts"]))

    st.subheader("Pipeline runs")
    durations = load("step_durations")
    if not durations.empty:
        chart(
            alt.Chart(durations)
            .mark_bar()
            .encode(
                x=alt.X("duration_seconds:Q", title="seconds (latest run)"),
                y=alt.Y("step_name:N", sort="-x", title="step"),
                color=alt.Color("status:N", scale=alt.Scale(domain=["success", "error"], range=["#4c78a8", "#d62728"])),
                tooltip=["step_name", "duration_seconds", "status", "started_at"],
            )
        )
    show_table(load("command_runs"), {"duration_seconds": "{:,.1f}".format})

    st.subheader("Feature and prediction drift (PSI)")
    left, right = st.columns(2)
    with left:
        features = load("drift", "feature")
        if features.empty:
            st.caption("Not monitored yet.")
        else:
            worst = features.groupby("feature_name")["psi"].max().sort_values(ascending=False).head(8).index
            chart(psi_chart(features[features["feature_name"].isin(worst)]))
            st.caption("The 8 features with the highest PSI; dashed lines: warn 0.1, alert 0.25.")
    with right:
        predictions = load("drift", "prediction")
        if predictions.empty:
            st.caption("Not monitored yet.")
        else:
            chart(psi_chart(predictions))
            st.caption("Predictions; dashed lines: warn 0.1, alert 0.25.")
    show_table(latest.head(10), {"psi": "{:.3f}".format})

    st.subheader("Monitoring runs")
    show_table(load("monitor_runs"))

    st.subheader("Data quality")
    st.caption("Cleaning rules: rows each rule removed, netted, capped, flagged or floored.")
    show_table(load("rule_counts"), {"rows_in": count, "rows_affected": count, "share_affected": "{:.2%}".format})
    st.caption("Rows quarantined by the landing guard, by rule.")
    show_table(load("quarantined_by_rule"), {"rows_quarantined": count})
    st.caption("Recent failed or warning dbt tests and failed steps (first line of the message).")
    show_table(load("recent_failures"), {"message": first_line})

    st.subheader("Alerts")
    show_table(alerts)
    source_caption()
