"""The ML landing contract: every table the jobs land under `lake/ml/`, defined once.

Each column is declared with its warehouse type; the Arrow type the writers use is derived from
it. The Redshift Spectrum DDL (`macros/redshift/clv_ml_lake_tables.sql`) is rendered from this
module (`clv-jobs contracts --write`), and the staging models `stg_ml__*` cast every column;
`tests/unit/test_ml_contracts.py` holds all three equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

__all__ = [
    "MlTable",
    "ML_TABLES",
    "schema",
    "to_table",
    "write",
    "ensure_tables",
    "empty_key",
    "partition_values",
    "render_spectrum_macro",
    "SPECTRUM_MACRO_PATH",
]

SPECTRUM_MACRO_PATH = Path("macros/redshift/clv_ml_lake_tables.sql")

_ARROW = {
    "varchar": pa.string(),
    "char": pa.string(),
    "double precision": pa.float64(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


def arrow_type(warehouse_type: str) -> pa.DataType:
    """The Arrow type a writer uses for a warehouse column type (`varchar(64)` -> string)."""
    return _ARROW[warehouse_type.split("(")[0]]


@dataclass(frozen=True)
class MlTable:
    """One lake table: its folder under `ml/`, its partition key and its typed columns."""

    name: str
    partition: tuple[str, str]
    columns: tuple[tuple[str, str], ...]
    description: str

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


_TABLES = [
    MlTable(
        "scores",
        ("as_of_date", "date"),
        (
            ("customer_id", "varchar(64)"),
            ("model_version", "varchar(32)"),
            ("value_tier", "varchar(32)"),
            ("reason_1", "varchar(128)"),
            ("reason_2", "varchar(128)"),
            ("reason_3", "varchar(128)"),
            ("predicted_clv", "double precision"),
            ("horizon_days", "bigint"),
            ("churn_probability", "double precision"),
            ("clv_percentile", "double precision"),
            ("reason_1_impact", "double precision"),
            ("reason_2_impact", "double precision"),
            ("reason_3_impact", "double precision"),
            ("scored_at", "timestamp"),
        ),
        "One row per customer scored at the as-of date by the champion.",
    ),
    MlTable(
        "evaluations",
        ("run_id", "varchar(64)"),
        (
            ("model_version", "varchar(32)"),
            ("test_as_of_date", "date"),
            ("slice_name", "varchar(64)"),
            ("slice_value", "varchar(128)"),
            ("model_name", "varchar(64)"),
            ("metric", "varchar(64)"),
            ("value", "double precision"),
        ),
        "One row per model, slice and metric of an evaluation run.",
    ),
    MlTable(
        "decisions",
        ("decision_id", "varchar(128)"),
        (
            ("run_id", "varchar(64)"),
            ("model_version", "varchar(32)"),
            ("action", "varchar(32)"),
            ("reasons", "varchar(4096)"),
            ("decided_by", "varchar(128)"),
            ("normalized_gini", "double precision"),
            ("rmse", "double precision"),
            ("test_as_of_date", "date"),
            ("decided_at", "timestamp"),
        ),
        "One row per lifecycle step of a model version: who, when and why.",
    ),
    MlTable(
        "drift",
        ("as_of_date", "date"),
        (
            ("model_version", "varchar(32)"),
            ("feature_name", "varchar(128)"),
            ("feature_kind", "varchar(32)"),
            ("reference", "varchar(32)"),
            ("reference_as_of_date", "date"),
            ("status", "varchar(16)"),
            ("psi", "double precision"),
            ("ks_statistic", "double precision"),
            ("baseline_null_share", "double precision"),
            ("current_null_share", "double precision"),
            ("baseline_rows", "bigint"),
            ("current_rows", "bigint"),
            ("monitored_at", "timestamp"),
        ),
        "One row per feature or prediction and reference population at a monitored date.",
    ),
    MlTable(
        "backtests",
        ("as_of_date", "date"),
        (
            ("scored_as_of_date", "date"),
            ("model_version", "varchar(32)"),
            ("horizon_days", "bigint"),
            ("customers", "bigint"),
            ("customers_unlabelled", "bigint"),
            ("rmse", "double precision"),
            ("mae", "double precision"),
            ("normalized_gini", "double precision"),
            ("top10_capture", "double precision"),
            ("bias", "double precision"),
            ("predicted_revenue_usd", "double precision"),
            ("actual_revenue_usd", "double precision"),
            ("test_normalized_gini", "double precision"),
            ("is_history_restated", "boolean"),
            ("monitored_at", "timestamp"),
        ),
        "One row per matured scored date and model version at a monitored date.",
    ),
    MlTable(
        "proxy",
        ("as_of_date", "date"),
        (
            ("scored_as_of_date", "date"),
            ("model_version", "varchar(32)"),
            ("window_days", "bigint"),
            ("customers", "bigint"),
            ("spearman", "double precision"),
            ("pearson", "double precision"),
            ("reference_spearman", "double precision"),
            ("relative_drop", "double precision"),
            ("is_triggered", "boolean"),
            ("monitored_at", "timestamp"),
        ),
        "One row per scored date whose 30-day window has passed: the early proxy of model quality.",
    ),
    MlTable(
        "kpi_cohorts",
        ("as_of_date", "date"),
        (
            ("scored_as_of_date", "date"),
            ("model_version", "varchar(32)"),
            ("cohort", "varchar(32)"),
            ("window_days", "bigint"),
            ("customers", "bigint"),
            ("buyers", "bigint"),
            ("realized_revenue_usd", "double precision"),
            ("realized_aov_usd", "double precision"),
            ("churn_rate", "double precision"),
            ("monitored_at", "timestamp"),
        ),
        "One row per scored date and cohort of predicted CLV (top 10 %, bottom 50 %).",
    ),
    MlTable(
        "monitor_runs",
        ("as_of_date", "date"),
        (
            ("model_version", "varchar(32)"),
            ("drift_status", "varchar(16)"),
            ("prediction_drift_status", "varchar(16)"),
            ("columns_warn", "bigint"),
            ("columns_alert", "bigint"),
            ("backtests", "bigint"),
            ("proxy_status", "varchar(16)"),
            ("retrain", "boolean"),
            ("reasons", "varchar(4096)"),
            ("monitored_at", "timestamp"),
        ),
        "One row per monitored date with the retrain decision.",
    ),
    MlTable(
        "shadow_runs",
        ("shadow_id", "varchar(128)"),
        (
            ("as_of_date", "date"),
            ("champion_version", "varchar(32)"),
            ("challenger_version", "varchar(32)"),
            ("customers", "bigint"),
            ("champion_mean_prediction", "double precision"),
            ("challenger_mean_prediction", "double precision"),
            ("mean_prediction_shift", "double precision"),
            ("zero_share", "double precision"),
            ("missing_share", "double precision"),
            ("spearman", "double precision"),
            ("top_decile_overlap", "double precision"),
            ("champion_seconds", "double precision"),
            ("challenger_seconds", "double precision"),
            ("champion_peak_mb", "double precision"),
            ("challenger_peak_mb", "double precision"),
            ("is_passed", "boolean"),
            ("reasons", "varchar(4096)"),
            ("shadowed_at", "timestamp"),
        ),
        "One row per shadow run: a challenger scored beside the champion, never published.",
    ),
    MlTable(
        "alerts",
        ("alert_id", "varchar(128)"),
        (
            ("tier", "varchar(16)"),
            ("rule_name", "varchar(64)"),
            ("raised_by", "varchar(64)"),
            ("model_version", "varchar(32)"),
            ("as_of_date", "date"),
            ("message", "varchar(4096)"),
            ("route", "varchar(256)"),
            ("raised_at", "timestamp"),
        ),
        "One row per alert raised, with its tier and where it was routed.",
    ),
    MlTable(
        "pipeline_runs",
        ("run_id", "varchar(128)"),
        (
            ("tool", "varchar(16)"),
            ("command", "varchar(256)"),
            ("step_name", "varchar(256)"),
            ("step_kind", "varchar(32)"),
            ("status", "varchar(16)"),
            ("failures", "bigint"),
            ("message", "varchar(4096)"),
            ("started_at", "timestamp"),
            ("duration_seconds", "double precision"),
            ("recorded_at", "timestamp"),
        ),
        "One row per pipeline step run: a clv-jobs command, or a dbt node of a dbt invocation.",
    ),
    MlTable(
        "experiments",
        ("experiment_id", "varchar(128)"),
        (
            ("kind", "varchar(16)"),
            ("campaign_id", "varchar(128)"),
            ("champion_version", "varchar(32)"),
            ("challenger_version", "varchar(32)"),
            ("scored_as_of_date", "date"),
            ("audience_size", "bigint"),
            ("treatment_share", "double precision"),
            ("exploration_share", "double precision"),
            ("starts_on", "date"),
            ("min_days", "bigint"),
            ("created_by", "varchar(128)"),
            ("created_at", "timestamp"),
        ),
        "One row per experiment: its kind (canary, ab), models, audience, shares and window.",
    ),
    MlTable(
        "experiment_assignments",
        ("experiment_id", "varchar(128)"),
        (
            ("customer_id", "varchar(64)"),
            ("group_name", "varchar(16)"),
            ("is_targeted", "boolean"),
            ("chosen_by", "varchar(32)"),
            ("predicted_clv", "double precision"),
            ("assigned_at", "timestamp"),
        ),
        "One row per eligible customer of an experiment: its group (keyed hash) and whether it is in the audience.",
    ),
    MlTable(
        "experiment_results",
        ("experiment_id", "varchar(128)"),
        (
            ("metric_name", "varchar(64)"),
            ("role", "varchar(16)"),
            ("control_value", "double precision"),
            ("treatment_value", "double precision"),
            ("difference", "double precision"),
            ("ci_low", "double precision"),
            ("ci_high", "double precision"),
            ("relative_lift", "double precision"),
            ("p_value", "double precision"),
            ("control_users", "bigint"),
            ("treatment_users", "bigint"),
            ("is_passed", "boolean"),
            ("verdict", "varchar(16)"),
            ("reasons", "varchar(4096)"),
            ("days_observed", "bigint"),
            ("analyzed_at", "timestamp"),
        ),
        "One row per metric of an experiment's newest analysis (primary, secondary, guardrail, srm), with the verdict.",
    ),
]

ML_TABLES: dict[str, MlTable] = {t.name: t for t in _TABLES}


def schema(table: str) -> pa.Schema:
    """The Arrow schema of lake table `ml/<table>` (the partition key is the folder, not a column)."""
    return pa.schema([(name, arrow_type(kind)) for name, kind in ML_TABLES[table].columns])


def to_table(table: str, rows: pd.DataFrame | list[dict]) -> pa.Table:
    """Rows as the contract's Arrow table: exactly its columns in its order; a missing column raises
    naming the table and the column."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=ML_TABLES[table].column_names)
    missing = [c for c in ML_TABLES[table].column_names if c not in frame.columns]
    if missing:
        raise ValueError(f"ml.{table}: missing contract column(s) {missing}")
    return pa.Table.from_pandas(frame, schema=schema(table), preserve_index=False)


def write(lake_dir, table: str, key_value, rows: pd.DataFrame | list[dict]) -> str:
    """Replace the partition `ml/<table>/<key>=<key_value>/` with `rows` in the contract's schema."""
    from clv_jobs import lake

    key = ML_TABLES[table].partition[0]
    return lake.LakeRoot(lake_dir).write_partition(to_table(table, rows), "ml", table, f"{key}={key_value}")


# The partition an empty table gets: zero rows under a key value no real partition uses.
EMPTY_KEY = {"date": "1970-01-01", "varchar": "none"}


def ensure_tables(lake_dir) -> list[str]:
    """Give every ML table that has no partition yet one with zero rows in the contract's schema,
    so dbt's sources (and Spectrum's) read an empty table instead of failing on a missing one
    (e.g. the ML marts published by the training DAG before anything was scored, or no shadow
    run and no alert yet). Returns the tables it created."""
    from clv_jobs import lake

    root, created = lake.LakeRoot(lake_dir), []
    for table in _TABLES:
        if not root.partition_values("ml", table.name):
            write(lake_dir, table.name, empty_key(table.name), [])
            created.append(table.name)
    return created


def empty_key(table: str) -> str:
    """The partition value of `table`'s zero-row placeholder partition."""
    return EMPTY_KEY["date" if ML_TABLES[table].partition[1] == "date" else "varchar"]


def partition_values(lake_dir, table: str) -> list[str]:
    """The partition values of `ml/<table>` that hold data (the placeholder left out)."""
    from clv_jobs import lake

    return [v for v in lake.LakeRoot(lake_dir).partition_values("ml", table) if v != empty_key(table)]


def render_spectrum_macro() -> str:
    """The dbt macro `clv_ml_lake_tables()` (the Spectrum DDL's ML half), rendered from this module."""
    lines = [
        "{#- Generated by `clv-jobs contracts --write` from python_jobs/clv_jobs/ml_contracts.py: edit",
        "    the contract there, not here (tests/unit/test_ml_contracts.py fails when they differ). -#}",
        "",
        "{% macro clv_ml_lake_tables() -%}",
        "    {{ return({",
    ]
    for table in _TABLES:
        key, kind = table.partition
        lines.append(f"        '{table.name}': {{'partition': ('{key}', '{kind}'), 'columns': [")
        for i, (name, column_type) in enumerate(table.columns):
            comma = "]}," if i == len(table.columns) - 1 else ","
            lines.append(f"            ('{name}', '{column_type}'){comma}")
    lines += ["    }) }}", "{%- endmacro %}", ""]
    return "\n".join(lines)
