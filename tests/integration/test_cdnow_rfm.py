"""RFM features built by dbt on the real CDNOW data equal an independent pandas computation
(the BTYD summary of Fader & Hardie: purchase days, recency and T in days, monetary value as
the mean of repeat purchase days)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from clv_jobs.datasets import importers
from conftest import run_dbt

AS_OF_DATES = ["1997-09-30", "1998-06-30"]


@pytest.fixture(scope="module")
def cdnow_features(tmp_path_factory):
    lake = tmp_path_factory.mktemp("cdnow_lake")
    importers.write_import(importers.read_cdnow(), lake)
    work = tmp_path_factory.mktemp("cdnow_dbt")
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(lake), "CLV_DUCKDB_PATH": str(work / "cdnow.duckdb")}
    vars_ = (
        '{"clv_as_of_first_date": "1997-09-30", "clv_as_of_last_date": "1998-06-30", "clv_outlier_percentile": null}'
    )
    result = run_dbt(
        ["build", "--select", "+fct_customer_features", "--indirect-selection", "cautious", "--vars", vars_], env, work
    )
    assert result.returncode == 0, result.output[-5000:]
    with duckdb.connect(str(work / "cdnow.duckdb"), read_only=True) as con:
        return con.sql(
            "select customer_id, as_of_date, frequency, recency_days, tenure_days, monetary_value_usd "
            "from marts.fct_customer_features"
        ).df()


def pandas_rfm(as_of: str) -> pd.DataFrame:
    """Independent: straight from the CDNOW file, grouped by customer and day."""
    raw = pd.read_csv(
        importers.cdnow_path(),
        sep=r"\s+",
        skiprows=1,
        header=None,
        names=["customer", "date", "cds", "dollars"],
        dtype={"customer": str, "date": str},
    )
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw = raw[raw["day"] <= as_of]
    days = raw.groupby(["customer", "day"], as_index=False)["dollars"].sum()
    days = days.sort_values(["customer", "day"])  # $0 days are purchases too (free orders)
    first = days.groupby("customer")["day"].transform("min")
    repeat = days[days["day"] > first]
    summary = days.groupby("customer").agg(first=("day", "min"), last=("day", "max"), n=("day", "size"))
    summary["frequency"] = summary["n"] - 1
    summary["recency_days"] = (summary["last"] - summary["first"]).dt.days
    summary["tenure_days"] = (pd.Timestamp(as_of) - summary["first"]).dt.days
    summary["monetary_value_usd"] = repeat.groupby("customer")["dollars"].mean().reindex(summary.index).fillna(0)
    summary.index = summary.index.str.lstrip("0")
    return summary[["frequency", "recency_days", "tenure_days", "monetary_value_usd"]]


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_rfm_matches_pandas(cdnow_features, as_of):
    expected = pandas_rfm(as_of)
    got = cdnow_features[cdnow_features["as_of_date"] == pd.Timestamp(as_of)].set_index("customer_id")
    got = got[expected.columns].astype(float).sort_index()
    expected = expected.astype(float).sort_index()
    assert len(got) == len(expected) == (23_570 if as_of == "1998-06-30" else len(expected))
    pd.testing.assert_frame_equal(got, expected, check_names=False, rtol=1e-9, atol=1e-9)
    # Every customer bought in 1997Q1, so by September all are present; most never come back.
    assert (expected["frequency"] == 0).mean() > 0.5
