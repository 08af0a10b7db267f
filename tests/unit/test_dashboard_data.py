"""The dashboards' reader: the DuckDB snapshot (atomic, only what exists, never the warehouse
file itself), the filters' SQL, and clear failures."""

from __future__ import annotations

import duckdb
import pytest

from clv_jobs import dashboard_data, dashboard_queries
from clv_jobs.dashboard_data import Filters, Warehouse


def make_warehouse(path, customers):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_customer_clv (customer_id varchar, value_tier varchar, value_tier_rank integer,"
            " country varchar, acquisition_channel varchar, predicted_clv double, churn_probability double,"
            " as_of_date date, horizon_days integer, model_version varchar)"
        )
        con.executemany(
            "insert into marts.dim_customer_clv values (?, ?, ?, ?, ?, ?, ?, '2024-12-31', 365, '1')", customers
        )
        con.execute("create table marts.not_for_dashboards as select 1 as x")


CUSTOMERS = [
    ("a", "platinum", 1, "Côte d'Ivoire", "search", 900.0, 0.1),
    ("b", "gold", 2, "Germany", "search", 300.0, 0.2),
    ("c", "bronze", 4, "Germany", "social", 5.0, 0.9),
]


def test_the_snapshot_holds_the_dashboard_marts_only_and_is_replaced_whole(tmp_path):
    path = tmp_path / "clv.duckdb"
    make_warehouse(path, CUSTOMERS)
    snapshot, copied = dashboard_data.publish_snapshot(path)
    assert snapshot == tmp_path / "clv.dashboards.duckdb"
    assert copied == ["marts.dim_customer_clv"]
    wh = Warehouse("dev", duckdb_path=path)
    assert wh.tables() == {"marts.dim_customer_clv"}
    first = wh.version()
    # a reader holding the old snapshot open keeps reading it while a new one is published
    with duckdb.connect(str(snapshot), read_only=True) as reader:
        with duckdb.connect(str(path)) as con:
            con.execute(
                "insert into marts.dim_customer_clv values ('d', 'silver', 3, 'Spain', 'email', 50, 0.5,"
                " '2024-12-31', 365, '1')"
            )
        dashboard_data.publish_snapshot(path)
        assert reader.execute("select count(*) from marts.dim_customer_clv").fetchone() == (3,)
    assert wh.version() != first
    assert dashboard_queries.value_headline(wh, Filters())["customers"] == 4
    assert not list(tmp_path.glob(".*partial"))


def test_filters_quote_their_values(tmp_path):
    path = tmp_path / "clv.duckdb"
    make_warehouse(path, CUSTOMERS)
    dashboard_data.publish_snapshot(path)
    wh = Warehouse("dev", duckdb_path=path)
    head = dashboard_queries.value_headline(wh, Filters(countries=("Côte d'Ivoire",)))
    assert (head["customers"], head["predicted_clv_total"]) == (1, 900.0)
    tiers = dashboard_queries.tiers(wh, Filters(channels=("search",)))
    assert tiers["value_tier"].tolist() == ["platinum", "gold"]  # by tier rank, not by name
    assert dashboard_queries.filter_values(wh)["countries"] == ["Côte d'Ivoire", "Germany"]


def test_missing_snapshot_and_unknown_target_fail_in_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="clv-jobs dashboards publish"):
        Warehouse("dev", duckdb_path=tmp_path / "clv.duckdb").query("select 1")
    with pytest.raises(ValueError, match="unsupported CLV_DBT_TARGET 'snowflake'"):
        Warehouse("snowflake")
