"""The dashboards in headless Chromium, on a product built with the CLI as a new user would
(generate -> check-landing -> dbt build -> train -> score -> monitor -> ML marts), on DuckDB
and on PostgreSQL: every page loads, nothing raises, no console error, no request leaves the
machine, every chart draws, and the headline numbers equal the warehouse's own queries."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from clv_jobs import dashboard_browser, dashboard_data
from conftest import AS_OF, PREVIOUS_AS_OF, clv_jobs, pg_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        dashboard_browser.chromium_path() is None and not os.environ.get("CI"),
        reason="no Chromium (apt-get install -y chromium; make test installs it)",
    ),
]


def duckdb_query(env: dict, sql: str) -> list[tuple]:
    """The warehouse itself (not the dashboards' snapshot)."""
    with duckdb.connect(env["CLV_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()


def number(text: str) -> float:
    return float(text.replace("$", "").replace(",", "").replace("%", ""))


def expected_headlines(query) -> dict[str, dict[str, str]]:
    """What each page must show, computed here with the warehouse's own SQL."""
    customers, total, mean, churn = query(
        "select count(*), sum(predicted_clv), avg(predicted_clv), avg(churn_probability) from marts.dim_customer_clv"
    )[0]
    version = query(
        "select model_version from marts.dim_customer_clv group by model_version order by count(*) desc limit 1"
    )[0][0]
    rmse, gini = query(
        "select max(case when metric_name = 'rmse' then metric_value end),"
        " max(case when metric_name = 'normalized_gini' then metric_value end)"
        " from marts.fct_model_evaluations where model_name = 'xgboost' and slice_name = 'all'"
        f" and model_version = '{version}' and run_id = (select run_id from marts.fct_model_evaluations"
        f"   where model_version = '{version}' order by test_as_of_date desc, run_id desc limit 1)"
    )[0]
    realized = query("select normalized_gini from marts.fct_model_backtest order by scored_as_of_date desc limit 1")[0][
        0
    ]
    steps, failed = query("select count(*), sum(case when is_failure then 1 else 0 end) from marts.fct_pipeline_runs")[
        0
    ]
    worst = query(
        "select max(psi) from marts.fct_feature_drift where drift_reference = 'training'"
        " and as_of_date = (select max(as_of_date) from marts.fct_feature_drift)"
    )[0][0]
    alerts = query("select count(*) from marts.fct_alerts")[0][0]
    return {
        "Customer value": {
            "Customers scored": f"{customers:,}",
            "Predicted CLV, total": f"${total:,.0f}",
            "Predicted CLV, mean": f"${mean:,.0f}",
            "Churn probability, mean": f"{churn:.1%}",
        },
        "Model performance": {
            "Scoring model version": str(version),
            "Test RMSE (USD)": f"{rmse:,.2f}",
            "Test normalized Gini": f"{gini:.3f}",
            "Realized normalized Gini (latest backtest)": f"{realized:.3f}",
        },
        "Operations": {
            "Pipeline steps recorded": f"{steps:,}",
            "Failed steps": f"{int(failed or 0):,}",
            "Worst PSI (latest monitoring)": f"{worst:.3f}",
            "Alerts raised": f"{alerts:,}",
        },
    }


def check_pages(views: dict, expected: dict) -> None:
    assert list(views) == [title for title, _ in dashboard_browser.PAGES]
    for title, view in views.items():
        assert view.exceptions == [], (title, view.exceptions)
        assert view.console_errors == [], (title, view.console_errors)
        assert view.outside_requests == [], (title, view.outside_requests)
        assert view.charts >= 3 and view.charts_drawn == view.charts, (title, view.charts, view.charts_drawn)
        assert view.metrics == expected[title], title


def test_pages_on_duckdb_show_the_warehouse_numbers(product, tmp_path):
    with dashboard_browser.serve(env=product) as url:
        views = dashboard_browser.browse(url, screenshot_dir=tmp_path)
    check_pages(views, expected_headlines(lambda sql: duckdb_query(product, sql)))
    # The tier table: every tier, most valuable first, with the warehouse's counts.
    tiers = duckdb_query(
        product,
        "select value_tier, count(*) from marts.dim_customer_clv group by value_tier, value_tier_rank"
        " order by value_tier_rank",
    )
    table = views["Customer value"].tables[0]
    assert table[0][:2] == ["value tier", "customers"]
    assert [(row[0], number(row[1])) for row in table[1:]] == [(tier, n) for tier, n in tiers]
    shots = sorted(p.name for p in tmp_path.iterdir())
    assert shots == ["customer-value.jpg", "model-performance.jpg", "operations.jpg"]


def test_tier_migration_accounts_for_every_scored_customer(product):
    now, before = duckdb_query(
        product,
        "select sum(case when to_tier <> 'unscored' then customers else 0 end),"
        " sum(case when from_tier <> 'unscored' then customers else 0 end) from marts.fct_tier_migration",
    )[0]
    scored = duckdb_query(
        product, "select as_of_date, count(distinct customer_id) from marts.fct_clv_scores group by 1 order by 1"
    )
    assert [str(d) for d, _ in scored] == [PREVIOUS_AS_OF, AS_OF]
    assert (before, now) == (scored[0][1], scored[1][1])


def test_a_country_filter_narrows_the_customer_numbers(product):
    country = duckdb_query(
        product, "select country from marts.dim_customer_clv group by country order by count(*) desc limit 1"
    )[0][0]
    customers, total = duckdb_query(
        product, f"select count(*), sum(predicted_clv) from marts.dim_customer_clv where country = '{country}'"
    )[0]

    def pick_country(page, title):
        if title == "Customer value":
            page.locator('[data-testid="stMultiSelect"]').first.click()
            page.keyboard.type(country)
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.wait_for_function(
                "n => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText === n)",
                arg=f"{customers:,}",
                timeout=30_000,
            )

    with dashboard_browser.serve(env=product) as url:
        views = dashboard_browser.browse(url, actions=pick_country)
    shown = views["Customer value"].metrics
    assert shown["Customers scored"] == f"{customers:,}"
    assert shown["Predicted CLV, total"] == f"${total:,.0f}"
    top = next(t for t in views["Customer value"].tables if "customer id" in t[0])  # top customers
    assert {row[top[0].index("country")] for row in top[1:]} == {country}


def test_a_build_while_the_app_serves_is_not_blocked_and_republishes(product):
    snapshot = dashboard_data.snapshot_path(product["CLV_DUCKDB_PATH"])
    before = snapshot.stat().st_mtime_ns
    with dashboard_browser.serve(env=product) as url:
        dashboard_browser.browse(url)  # the app has read the marts
        clv_jobs(product, "dbt", "build", "--selector", "ml_marts")  # DuckDB's single writer
        views = dashboard_browser.browse(url)
    assert snapshot.stat().st_mtime_ns > before
    assert views["Customer value"].exceptions == []


def test_every_mart_is_documented_catalogued_and_exposed(product):
    clv_jobs(product, "dbt", "docs", "generate")
    target = product["DBT_TARGET_PATH"]
    manifest = json.load(open(f"{target}/manifest.json"))
    catalog = json.load(open(f"{target}/catalog.json"))
    marts = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["path"].startswith("marts")
    }
    assert len(marts) >= 24
    assert set(marts) <= set(catalog["nodes"]), set(marts) - set(catalog["nodes"])
    undocumented = [
        f"{node['name']}.{column}"
        for key, node in marts.items()
        for column in catalog["nodes"][key]["columns"]
        if not node["columns"].get(column, {}).get("description", "").strip()
    ]
    assert undocumented == []
    exposures = manifest["exposures"].values()
    assert {e["label"] for e in exposures} == {title for title, _ in dashboard_browser.PAGES}
    assert all(e["owner"]["email"] and e["depends_on"]["nodes"] for e in exposures)
    read = {node.split(".")[-1] for e in exposures for node in e["depends_on"]["nodes"]}
    assert {table for _, table in dashboard_data.SNAPSHOT_TABLES} - {"fct_shadow_runs", "rpt_clv_segments"} >= read


@pytest.mark.postgres
def test_pages_on_postgres_show_the_warehouse_numbers(product, postgres_dsn):
    import psycopg2

    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists seeds, staging, intermediate, marts, quality, snapshots, ml_landing cascade")
    env = {**product, "CLV_DBT_TARGET": "ci_postgres", **pg_env()}
    clv_jobs(env, "load-raw")
    clv_jobs(env, "dbt", "build")
    clv_jobs(env, "load-ml")
    clv_jobs(env, "dbt", "build", "--selector", "ml_marts")

    def query(sql: str) -> list[tuple]:
        with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    with dashboard_browser.serve(env=env) as url:
        views = dashboard_browser.browse(url)
    expected = expected_headlines(query)
    check_pages(views, expected)
    # The same lake: the customer numbers equal DuckDB's.
    assert expected["Customer value"] == expected_headlines(lambda sql: duckdb_query(product, sql))["Customer value"]
