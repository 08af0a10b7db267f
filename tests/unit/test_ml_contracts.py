"""The ML landing contract is defined once: the writers' Arrow schemas, the Spectrum DDL macro and
the staging casts all follow `ml_contracts`."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from clv_jobs import ml_contracts
from conftest import PROJECT_DIR

STAGING = {
    "scores": "stg_ml__clv_scores",
    "evaluations": "stg_ml__model_evaluations",
    "decisions": "stg_ml__model_decisions",
    "drift": "stg_ml__drift_metrics",
    "backtests": "stg_ml__backtests",
    "proxy": "stg_ml__proxy_checks",
    "kpi_cohorts": "stg_ml__kpi_cohorts",
    "monitor_runs": "stg_ml__monitor_runs",
    "shadow_runs": "stg_ml__shadow_runs",
    "alerts": "stg_ml__alerts",
    "pipeline_runs": "stg_ml__pipeline_runs",
    "experiments": "stg_ml__experiments",
    "experiment_assignments": "stg_ml__experiment_assignments",
    "experiment_results": "stg_ml__experiment_results",
}


def test_spectrum_macro_is_rendered_from_the_contract():
    committed = (PROJECT_DIR / ml_contracts.SPECTRUM_MACRO_PATH).read_text()
    assert committed == ml_contracts.render_spectrum_macro(), "run `clv-jobs contracts --write`"


@pytest.mark.parametrize("table", sorted(ml_contracts.ML_TABLES), ids=sorted(ml_contracts.ML_TABLES))
def test_staging_casts_every_contract_column_and_nothing_else(table):
    sql = (PROJECT_DIR / "models" / "staging" / "ml" / f"{STAGING[table]}.sql").read_text()
    assert f"source('ml', '{table}')" in sql
    cast = set(re.findall(r"cast\((\w+) as", sql))
    spec = ml_contracts.ML_TABLES[table]
    assert cast == {spec.partition[0], *spec.column_names}


def test_every_source_table_is_in_the_contract():
    sources = (PROJECT_DIR / "models" / "staging" / "ml" / "_ml__sources.yml").read_text()
    assert set(re.findall(r"^      - name: (\w+)", sources, re.M)) == set(ml_contracts.ML_TABLES)


def test_to_table_names_the_missing_column():
    with pytest.raises(ValueError, match=r"ml.alerts: missing contract column\(s\) \['route'\]"):
        ml_contracts.to_table(
            "alerts",
            pd.DataFrame([{"tier": "low"}]).reindex(
                columns=[c for c in ml_contracts.ML_TABLES["alerts"].column_names if c != "route"]
            ),
        )


def test_ensure_tables_creates_empty_tables_once_and_they_hold_no_partition_value(tmp_path):
    ml_contracts.write(tmp_path, "scores", "2024-12-31", pd.DataFrame(columns=ml_contracts.schema("scores").names))
    created = ml_contracts.ensure_tables(tmp_path)
    assert sorted(created) == sorted(set(ml_contracts.ML_TABLES) - {"scores"})
    assert ml_contracts.ensure_tables(tmp_path) == []
    assert ml_contracts.partition_values(tmp_path, "drift") == []
    assert ml_contracts.partition_values(tmp_path, "scores") == ["2024-12-31"]
    frame = pd.read_parquet(tmp_path / "ml" / "alerts")
    assert frame.empty and list(frame.columns)[: len(ml_contracts.ML_TABLES["alerts"].columns)] == (
        ml_contracts.ML_TABLES["alerts"].column_names
    )
