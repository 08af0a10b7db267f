"""One query per dashboard panel (dashboards/*.py draw them). Each takes a `Warehouse` and returns
a DataFrame; SQL that DuckDB, PostgreSQL and Redshift all run."""

from __future__ import annotations

import pandas as pd

from clv_jobs.dashboard_data import Filters, Warehouse

# --- customer value -----------------------------------------------------------------------------


def filter_values(wh: Warehouse) -> dict[str, list[str]]:
    """The countries and acquisition channels of the scored customers, for the filters."""
    frame = wh.query("select distinct country, acquisition_channel from marts.dim_customer_clv")
    return {
        "countries": sorted(frame["country"].dropna().astype(str).unique()),
        "channels": sorted(frame["acquisition_channel"].dropna().astype(str).unique()),
    }


def value_headline(wh: Warehouse, filters: Filters) -> dict:
    row = wh.query(
        "select count(*) as customers, sum(predicted_clv) as predicted_clv_total,"
        " avg(predicted_clv) as predicted_clv_mean, avg(churn_probability) as churn_probability_mean,"
        " max(as_of_date) as as_of_date, max(horizon_days) as horizon_days"
        f" from marts.dim_customer_clv where {filters.where()}"
    ).iloc[0]
    return row.to_dict()


def tiers(wh: Warehouse, filters: Filters) -> pd.DataFrame:
    """Customers and predicted value by tier, most valuable tier first."""
    return wh.query(
        "select value_tier, value_tier_rank, count(*) as customers, sum(predicted_clv) as predicted_clv_total,"
        " avg(predicted_clv) as predicted_clv_mean, avg(churn_probability) as churn_probability_mean"
        f" from marts.dim_customer_clv where {filters.where()}"
        " group by value_tier, value_tier_rank order by value_tier_rank"
    )


def distribution(wh: Warehouse) -> pd.DataFrame:
    """Customers per predicted-CLV band at each scored date (the newest model version per date)."""
    return wh.query(
        "select d.as_of_date, d.clv_band, d.band_lower_usd, d.customers"
        " from marts.rpt_clv_distribution as d"
        " inner join (select as_of_date, max(model_version) as model_version"
        "   from marts.rpt_clv_distribution group by as_of_date) as v"
        "   on d.as_of_date = v.as_of_date and d.model_version = v.model_version"
        " order by d.as_of_date, d.band_lower_usd"
    )


def tier_migration(wh: Warehouse) -> pd.DataFrame:
    """Moves between tiers from the previous scored date to the newest."""
    return wh.query(
        "select as_of_date, previous_as_of_date, from_tier, from_tier_rank, to_tier, to_tier_rank, customers"
        " from marts.fct_tier_migration"
        " where as_of_date = (select max(as_of_date) from marts.fct_tier_migration)"
        " order by from_tier_rank, to_tier_rank"
    )


def top_customers(wh: Warehouse, filters: Filters, limit: int = 20) -> pd.DataFrame:
    return wh.query(
        "select customer_id, value_tier, predicted_clv, churn_probability, reason_1, reason_2, reason_3,"
        " country, acquisition_channel"
        f" from marts.dim_customer_clv where {filters.where()}"
        f" order by predicted_clv desc, customer_id limit {int(limit)}"
    )


def by_slice(wh: Warehouse, filters: Filters, column: str) -> pd.DataFrame:
    """Customers and predicted value per country or acquisition channel."""
    if column not in ("country", "acquisition_channel"):
        raise ValueError(f"by_slice: no slice {column!r}")
    return wh.query(
        f"select {column} as slice_value, count(*) as customers, sum(predicted_clv) as predicted_clv_total,"
        " avg(predicted_clv) as predicted_clv_mean, avg(churn_probability) as churn_probability_mean"
        f" from marts.dim_customer_clv where {filters.where()}"
        f" group by {column} order by predicted_clv_total desc"
    )


# --- model performance --------------------------------------------------------------------------


def scoring_version(wh: Warehouse) -> str | None:
    """The model version whose scores are current (what dim_customer_clv holds the most of)."""
    frame = wh.query(
        "select model_version, count(*) as n from marts.dim_customer_clv group by model_version"
        " order by n desc, model_version desc limit 1"
    )
    return None if frame.empty else str(frame["model_version"].iloc[0])


def _latest_run(wh: Warehouse, version: str) -> str | None:
    frame = wh.query(
        "select run_id from marts.fct_model_evaluations"
        f" where model_version = '{int(version)}' and slice_name = 'all'"
        " group by run_id, test_as_of_date order by test_as_of_date desc, run_id desc limit 1"
    )
    return None if frame.empty else str(frame["run_id"].iloc[0])


def champion_vs_baselines(wh: Warehouse, version: str) -> pd.DataFrame:
    """Every model's test metrics (one row per model) of the scoring version's latest evaluation."""
    run = _latest_run(wh, version)
    if run is None:
        return pd.DataFrame()
    long = wh.query(
        "select model_name, metric_name, metric_value, test_as_of_date from marts.fct_model_evaluations"
        f" where run_id = '{run}' and slice_name = 'all'"
        " and metric_name in ('rmse', 'mae', 'normalized_gini', 'spearman', 'top10_capture', 'bias')"
    )
    wide = long.pivot_table(index="model_name", columns="metric_name", values="metric_value").reset_index()
    wide["test_as_of_date"] = long["test_as_of_date"].iloc[0]
    return wide.sort_values("rmse").reset_index(drop=True)


def evaluation_slice(wh: Warehouse, version: str, slice_name: str) -> pd.DataFrame:
    """The candidate's rows of one slice (decile: calibration; feature: SHAP importance), wide."""
    run = _latest_run(wh, version)
    if run is None:
        return pd.DataFrame()
    long = wh.query(
        "select slice_value, metric_name, metric_value from marts.fct_model_evaluations"
        f" where run_id = '{run}' and slice_name = '{slice_name}' and model_name = 'xgboost'"
    )
    if long.empty:
        return long
    return long.pivot_table(index="slice_value", columns="metric_name", values="metric_value").reset_index()


def backtests(wh: Warehouse) -> pd.DataFrame:
    """Each matured scored date's realized metrics, from its newest monitoring."""
    return wh.query(
        "select b.scored_as_of_date, b.model_version, b.monitored_as_of_date, b.customers, b.rmse,"
        " b.normalized_gini, b.test_normalized_gini, b.top10_capture, b.bias"
        " from marts.fct_model_backtest as b"
        " inner join (select scored_as_of_date, model_version, max(monitored_as_of_date) as monitored_as_of_date"
        "   from marts.fct_model_backtest group by scored_as_of_date, model_version) as latest"
        "   on b.scored_as_of_date = latest.scored_as_of_date and b.model_version = latest.model_version"
        "   and b.monitored_as_of_date = latest.monitored_as_of_date"
        " order by b.scored_as_of_date, b.model_version"
    )


def proxy(wh: Warehouse) -> pd.DataFrame:
    """The 30-day proxy per scored date, from its newest monitoring."""
    return wh.query(
        "select p.scored_as_of_date, p.model_version, p.spearman, p.reference_spearman, p.relative_drop,"
        " p.is_triggered from marts.fct_model_proxy as p"
        " inner join (select scored_as_of_date, model_version, max(as_of_date) as as_of_date"
        "   from marts.fct_model_proxy group by scored_as_of_date, model_version) as latest"
        "   on p.scored_as_of_date = latest.scored_as_of_date and p.model_version = latest.model_version"
        "   and p.as_of_date = latest.as_of_date"
        " order by p.scored_as_of_date"
    )


def kpi_cohorts(wh: Warehouse) -> pd.DataFrame:
    """Realized 30-day KPIs of the top 10 % and bottom 50 % at the newest measured scored date."""
    return wh.query(
        "select scored_as_of_date, model_version, cohort, customers, buyers, realized_revenue_usd,"
        " realized_aov_usd, churn_rate from marts.fct_kpi_cohorts"
        " where as_of_date = (select max(as_of_date) from marts.fct_kpi_cohorts)"
        " and scored_as_of_date = (select max(scored_as_of_date) from marts.fct_kpi_cohorts"
        "   where as_of_date = (select max(as_of_date) from marts.fct_kpi_cohorts))"
        " order by cohort desc"
    )


def decisions(wh: Warehouse, limit: int = 30) -> pd.DataFrame:
    return wh.query(
        "select decided_at, model_version, decision, decided_by, reasons from marts.fct_model_decisions"
        f" order by decided_at desc limit {int(limit)}"
    )


# --- operations ---------------------------------------------------------------------------------


def drift(wh: Warehouse, kind: str) -> pd.DataFrame:
    """PSI per monitored date and column against the training reference (`kind`: feature or
    prediction)."""
    kinds = "= 'prediction'" if kind == "prediction" else "<> 'prediction'"
    return wh.query(
        "select as_of_date, feature_name, psi, drift_status from marts.fct_feature_drift"
        f" where drift_reference = 'training' and feature_kind {kinds}"
        " order by as_of_date, feature_name"
    )


def latest_drift(wh: Warehouse) -> pd.DataFrame:
    """Every column's PSI at the newest monitored date, worst first."""
    return wh.query(
        "select feature_name, feature_kind, psi, drift_status from marts.fct_feature_drift"
        " where drift_reference = 'training'"
        " and as_of_date = (select max(as_of_date) from marts.fct_feature_drift)"
        " order by psi desc"
    )


def rule_counts(wh: Warehouse) -> pd.DataFrame:
    return wh.query(
        "select source_table, rule_name, rule_action, rows_in, rows_affected, share_affected"
        " from quality.rpt_staging_rule_counts order by rows_affected desc, rule_name"
    )


def quarantined_by_rule(wh: Warehouse) -> pd.DataFrame:
    return wh.query(
        "select rule_name, count(*) as rows_quarantined from quality.fct_quarantined_rows"
        " group by rule_name order by rows_quarantined desc, rule_name"
    )


def recent_failures(wh: Warehouse, limit: int = 20) -> pd.DataFrame:
    """The newest failed, erroring or warning dbt tests and failed steps."""
    return wh.query(
        "select started_at, tool, step_name, status, failures, message from marts.fct_pipeline_runs"
        " where status in ('error', 'fail', 'warn')"
        f" order by started_at desc, step_name limit {int(limit)}"
    )


def command_runs(wh: Warehouse, limit: int = 30) -> pd.DataFrame:
    """The newest clv-jobs pipeline commands with their outcome and duration."""
    return wh.query(
        "select started_at, step_name, command, status, duration_seconds from marts.fct_pipeline_runs"
        f" where tool = 'clv-jobs' order by started_at desc, step_name limit {int(limit)}"
    )


def step_durations(wh: Warehouse) -> pd.DataFrame:
    """Each step's duration at its newest run (clv-jobs commands)."""
    return wh.query(
        "select r.step_name, r.duration_seconds, r.status, r.started_at from marts.fct_pipeline_runs as r"
        " inner join (select step_name, max(started_at) as started_at from marts.fct_pipeline_runs"
        "   where tool = 'clv-jobs' group by step_name) as latest"
        "   on r.step_name = latest.step_name and r.started_at = latest.started_at"
        " where r.tool = 'clv-jobs' order by r.duration_seconds desc"
    )


def pipeline_headline(wh: Warehouse) -> dict:
    row = wh.query(
        "select count(*) as steps, sum(case when is_failure then 1 else 0 end) as failed_steps,"
        " max(started_at) as last_started_at, (select count(*) from marts.fct_alerts) as alerts"
        " from marts.fct_pipeline_runs"
    ).iloc[0]
    return row.to_dict()


def alerts(wh: Warehouse, limit: int = 30) -> pd.DataFrame:
    return wh.query(
        "select raised_at, tier, rule_name, raised_by, message, route from marts.fct_alerts"
        f" order by raised_at desc limit {int(limit)}"
    )


def monitor_runs(wh: Warehouse) -> pd.DataFrame:
    return wh.query(
        "select as_of_date, model_version, drift_status, prediction_drift_status, proxy_status,"
        " is_retrain_recommended, reasons from marts.fct_monitor_runs order by as_of_date desc"
    )
