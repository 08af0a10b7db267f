"""The local dbt_expectations package's own integration project: every test has a passing and
an expected-failing case, so a test that cannot fail breaks this suite."""

from __future__ import annotations

import json

import pytest

from conftest import PROJECT_DIR, pg_env, run_dbt

SUITE = PROJECT_DIR / "packages" / "dbt_expectations" / "integration_tests"


TESTS = [
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_of_type",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_mean_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_distinct_count_to_be_less_than",
    "expect_table_row_count_to_be_between",
    "expect_row_values_to_have_recent_data",
    "expect_compound_columns_to_be_unique",
]


def _build(tmp_path, target: str, extra_env: dict[str, str]):
    env = {"CLV_DBT_TARGET": target, "DBT_EXPECTATIONS_DUCKDB_PATH": str(tmp_path / "it.duckdb"), **extra_env}
    deps = run_dbt(["deps", "--profiles-dir", str(SUITE)], env, tmp_path, project_dir=SUITE)
    assert deps.returncode == 0, deps.output
    return run_dbt(["build", "--profiles-dir", str(SUITE)], env, tmp_path, project_dir=SUITE)


def _assert_every_case_passed(result, tmp_path):
    assert result.returncode == 0, result.output[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    statuses = {
        r["unique_id"]: r["status"]
        for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    }
    cases = {name: {"pass": 0, "expected_failure": 0} for name in TESTS}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "test":
            continue
        assert statuses[unique_id] == "pass", unique_id
        name = node["test_metadata"]["name"]
        kind = "expected_failure" if node["config"]["error_if"] == "=0" else "pass"
        cases[name][kind] += 1
    for name, counts in cases.items():
        assert counts["pass"] >= 1 and counts["expected_failure"] >= 1, f"{name}: {counts}"


def test_suite_on_duckdb(tmp_path):
    _assert_every_case_passed(_build(tmp_path, "duckdb", {}), tmp_path)


@pytest.mark.postgres
def test_suite_on_postgres(tmp_path, postgres_dsn):
    _assert_every_case_passed(_build(tmp_path, "ci_postgres", pg_env()), tmp_path)
