"""`dbt build` on DuckDB over a small synthetic lake: everything builds and tests pass, and
what the marts say agrees with the data the generator landed."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from conftest import failure_digest


@pytest.fixture(scope="module")
def con(duckdb_build):
    path, result = duckdb_build
    assert result.returncode == 0, failure_digest(result.output)
    with duckdb.connect(str(path), read_only=True) as connection:
        yield connection


def test_build_runs_every_kind_of_test(duckdb_build):
    path, result = duckdb_build
    run_results = json.loads((path.parent / "target" / "run_results.json").read_text())["results"]
    kinds = {r["unique_id"].split(".")[0] for r in run_results}
    assert {"model", "test", "unit_test", "seed", "snapshot"} <= kinds
    # the dashboards' exposures are nodes with nothing to run ("no-op")
    assert all(r["status"] in {"success", "pass"} or r["unique_id"].startswith("exposure.") for r in run_results)
    assert {r["status"] for r in run_results if r["unique_id"].startswith("exposure.")} <= {"no-op"}
    singular = {r["unique_id"].split(".")[-1] for r in run_results if r["unique_id"].startswith("test.")}
    assert {
        "assert_features_never_see_after_as_of_date",
        "assert_training_labels_complete_and_before_test_date",
        "assert_no_pii_in_marts",
    } <= singular


def test_null_customer_rule_counts_what_the_generator_landed(con, small_shop):
    landed_nulls = small_shop.transactions.column("CustomerID").null_count
    row = con.execute(
        "select rows_in, rows_affected from quality.rpt_staging_rule_counts where rule_name = 'null_customer_id'"
    ).fetchall()[0]
    assert row == (len(small_shop.transactions), landed_nulls)
    staged = con.execute("select count(*) from staging.stg_shop__transactions").fetchall()[0][0]
    assert staged == len(small_shop.transactions) - landed_nulls


def test_every_buyer_appears_once_per_as_of_date_after_first_purchase(con):
    dup = con.execute("""
        select count(*) from (
            select customer_id, as_of_date from marts.fct_customer_features group by 1, 2 having count(*) > 1
        ) as d
    """).fetchall()[0][0]
    assert dup == 0
    latest = con.execute("""
        select count(*) from marts.fct_customer_features
        where as_of_date = (select max(as_of_date) from marts.fct_customer_features)
    """).fetchall()[0][0]
    buyers = con.execute("select count(*) from marts.dim_customers where has_purchased").fetchall()[0][0]
    assert latest == buyers


def test_revenue_label_equals_the_lines_in_the_window(con):
    """Independent of the models: sum staged lines in (D, D+365] for the test as-of date."""
    mismatches = con.execute("""
        with t as (select test_as_of_date as d from intermediate.int_as_of_dates limit 1),
        lines as (
            select s.customer_id, sum(s.line_amount_usd) as net
            from staging.stg_shop__transactions s, t
            where s.invoice_date > t.d and s.invoice_date <= t.d + interval 365 day
            group by 1
        )
        select count(*)
        from marts.fct_customer_labels l
        join t on l.as_of_date = t.d
        left join lines on l.customer_id = lines.customer_id
        where abs(l.net_revenue_next_horizon_usd - coalesce(lines.net, 0)) > 0.001
    """).fetchall()[0][0]
    assert mismatches == 0


def test_crm_attributes_are_those_valid_at_the_as_of_date(con, small_shop):
    crm = small_shop.customers.to_pandas()
    features = con.sql("select customer_id, as_of_date, loyalty_status from marts.fct_customer_features").df()
    crm = crm.sort_values("updated_at")
    features["as_of_end"] = features["as_of_date"] + pd.Timedelta(days=1)
    merged = pd.merge_asof(
        features.sort_values("as_of_end"),
        crm[["customer_id", "updated_at", "loyalty_status"]],
        left_on="as_of_end",
        right_on="updated_at",
        by="customer_id",
        allow_exact_matches=False,
        suffixes=("", "_expected"),
    )
    merged["loyalty_status_expected"] = merged["loyalty_status_expected"].fillna("unknown")
    assert (merged["loyalty_status"] == merged["loyalty_status_expected"]).all()
    assert set(merged["loyalty_status"]) >= {"bronze", "silver"}


def test_no_pii_in_marts_but_hashes_in_staging(con, small_shop):
    emails = set(small_shop.customers.column("email").to_pylist())
    mart_strings = con.execute("""
        select customer_id from marts.dim_customers
        union all select country from marts.dim_customers
        union all select acquisition_channel from marts.fct_customer_features
    """).fetchall()
    assert not emails & {row[0] for row in mart_strings}
    hashes = con.execute("select email_hash from staging.stg_shop__customers limit 5").fetchall()
    assert all(len(h[0]) == 64 and "@" not in h[0] for h in hashes)


def test_training_splits_are_ordered_in_time(con):
    rows = con.execute("""
        select split, min(as_of_date), max(as_of_date), max(label_window_end_date)
        from marts.fct_clv_training_examples group by split
    """).fetchall()
    spans = {r[0]: r[1:] for r in rows}
    assert spans["train"][1] < spans["valid"][0] <= spans["valid"][1] < spans["test"][0]
    assert spans["valid"][2] <= spans["test"][0]


def _table_checksums(path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ('marts', 'quality', 'staging', 'snapshots') and table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            name: connection.execute(
                "select count(*) || ':' || coalesce(md5(string_agg(md5(t::varchar), ',' order by"
                f" md5(t::varchar))), '') from {name} t"
            ).fetchone()[0]
            for (name,) in tables
        }


def test_a_rebuild_of_an_unchanged_lake_gives_identical_tables(duckdb_build, synthetic_lake, tmp_path):
    """Float aggregations are order-independent: two builds of one lake agree to the last bit."""
    import shutil

    from conftest import run_dbt

    path, result = duckdb_build
    assert result.returncode == 0
    copy = tmp_path / "again.duckdb"
    shutil.copy(path, copy)
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(synthetic_lake), "CLV_DUCKDB_PATH": str(copy)}
    again = run_dbt(["build"], env, tmp_path)
    assert again.returncode == 0, again.output[-3000:]
    first, second = _table_checksums(path), _table_checksums(copy)
    assert "marts.fct_customer_features" in first and "quality.fct_restatements" in first
    assert first == second
