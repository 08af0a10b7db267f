"""Scores on any day, not only month ends (ADR 0016): `clv-jobs score --as-of-date D` builds the
features and labels at D on demand with the spine's own models and tests, scores them, and the
monitor and the ML marts take the day like any other scored date. Run through the CLI on a copy
of the demo `product` (so the shared product is left as the dashboard tests expect it)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import AS_OF, clv_jobs

pytestmark = pytest.mark.slow

DAY = date(2024, 12, 15)  # mid-December: the month ends around it are on the spine


@pytest.fixture
def shop(product, tmp_path) -> dict:
    """The product, copied: every path in its environment points into the copy."""
    work = tmp_path / "product"
    shutil.copytree(product["WORK"], work)
    return {name: value.replace(product["WORK"], str(work)) for name, value in product.items()}


def query(env: dict, sql: str) -> pd.DataFrame:
    with duckdb.connect(env["CLV_DUCKDB_PATH"], read_only=True) as con:
        return con.sql(sql).df()


def test_a_day_off_the_spine_is_scored_monitored_and_published(shop):
    output = clv_jobs(shop, "score", "--as-of-date", str(DAY))
    assert f"building features and labels at {DAY}" in output

    # Point in time at D: each customer's last purchase is the last one on or before D, and the
    # customers are those who had bought by then (between the month ends' populations).
    features = query(shop, f"select * from marts.fct_customer_features where as_of_date = '{DAY}'")
    last_purchase = query(
        shop,
        "select customer_id, max(activity_date) as last_purchase_date from intermediate.int_customer_days"
        f" where is_purchase_day and activity_date <= '{DAY}' group by customer_id",
    ).set_index("customer_id")["last_purchase_date"]
    seen = pd.to_datetime(DAY) - pd.to_timedelta(features.set_index("customer_id")["days_since_last_purchase"], "D")
    pd.testing.assert_series_equal(
        seen.sort_index(), pd.to_datetime(last_purchase).sort_index(), check_names=False, check_freq=False
    )
    per_date = query(shop, "select as_of_date, count(*) as n from marts.fct_customer_features group by 1")
    counts = dict(zip(per_date["as_of_date"].dt.date, per_date["n"], strict=True))
    assert counts[date(2024, 11, 30)] <= counts[DAY] <= counts[date(2024, 12, 31)]
    # Never a training, validation or test date.
    spine = query(shop, f"select split from intermediate.int_as_of_dates where as_of_date = '{DAY}'")
    assert spine["split"].isna().tolist() == [True]

    scores = pd.read_parquet(Path(shop["CLV_LAKE_DIR"]) / "ml" / "scores" / f"as_of_date={DAY}")
    assert sorted(scores["customer_id"]) == sorted(features["customer_id"])

    # The month end after it is monitored against the day as the previous scoring.
    clv_jobs(shop, "monitor", "--as-of-date", AS_OF)
    clv_jobs(shop, "dbt", "build", "--selector", "ml_marts")  # its tests check D's scores too
    drift = query(
        shop,
        "select distinct reference_as_of_date from marts.fct_feature_drift"
        f" where as_of_date = '{AS_OF}' and drift_reference = 'previous_scoring'",
    )
    assert drift["reference_as_of_date"].dt.date.tolist() == [DAY]
    published = query(shop, f"select count(*) as n from marts.fct_clv_scores where as_of_date = '{DAY}'")
    assert published["n"].tolist() == [len(scores)]
    # Tier migration runs from the day to the month end after it.
    migration = query(
        shop, f"select distinct previous_as_of_date from marts.fct_tier_migration where as_of_date = '{AS_OF}'"
    )
    assert migration["previous_as_of_date"].dt.date.tolist() == [DAY]
