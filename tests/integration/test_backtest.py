"""`clv-jobs backtest` sees only data on or before its as-of date: changing every order after D
changes the realized labels but not one prediction."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from clv_jobs import backtest
from clv_jobs.settings import Settings
from conftest import job_settings

AS_OF = date(2023, 12, 31)


def _settings(lake, tmp_path) -> Settings:
    return job_settings(lake, tmp_path / "reports", tmp_path / "target", tmp_path / "unused.duckdb")


def _double_prices_after(lake, day: date) -> int:
    """Double UnitPrice on every transaction partition after `day`; returns the lines changed."""
    changed = 0
    for partition in sorted((lake / "raw" / "transactions").glob("ingest_date=*")):
        if date.fromisoformat(partition.name.split("=")[1]) <= day:
            continue
        for file in partition.glob("*.parquet"):
            table = pq.read_table(file)
            index = table.schema.get_field_index("UnitPrice")
            doubled = pc.multiply(table.column("UnitPrice"), 2).cast(table.schema.field("UnitPrice").type)
            pq.write_table(table.set_column(index, "UnitPrice", doubled), file)
            changed += len(table)
    return changed


def test_backtest_uses_only_data_up_to_its_as_of_date(synthetic_lake, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(synthetic_lake, lake)
    first = backtest.run_backtest(_settings(lake, tmp_path), AS_OF, 365, tmp_path / "work")
    assert {"xgboost", "company_average", "heuristic", "linear_rfm", "bgnbd_gamma_gamma", "oracle"} == set(
        first.metrics["model"]
    )
    assert first.train_dates[1] < first.valid_date < AS_OF
    assert (first.report_dir / "metrics.csv").exists()
    landed = pd.read_parquet(first.report_dir / "predictions.parquet")
    assert len(landed) == len(first.predictions) and {"pred_xgboost", "pred_bgnbd_gamma_gamma"} <= set(landed.columns)
    versus = pd.read_csv(first.report_dir / "candidate_vs_btyd.csv").set_index("metric")
    metrics = first.metrics.set_index("model")
    for metric in ("rmse", "normalized_gini"):
        observed = metrics.loc["xgboost", metric] - metrics.loc["bgnbd_gamma_gamma", metric]
        assert versus.loc[metric, "difference"] == pytest.approx(observed)
        assert versus.loc[metric, "low"] < observed < versus.loc[metric, "high"]

    assert _double_prices_after(lake, AS_OF) > 0
    second = backtest.run_backtest(_settings(lake, tmp_path), AS_OF, 365, tmp_path / "work")
    label = "revenue_next_horizon_usd"
    predictions = [c for c in first.predictions.columns if c.startswith("pred_")]
    a, b = (o.predictions.sort_values("customer_id").reset_index(drop=True) for o in (first, second))
    pd.testing.assert_frame_equal(a[["customer_id", *predictions]], b[["customer_id", *predictions]])
    assert b[label].sum() > 1.5 * a[label].sum()  # the future did change (prices doubled, some capped)

    # Rolling origin over the two runs: mean and sample sd per model and metric.
    summary = backtest.rolling_summary([first, second]).set_index("model")
    gini = [o.metrics.set_index("model").loc["xgboost", "normalized_gini"] for o in (first, second)]
    assert summary.loc["xgboost", "normalized_gini_mean"] == pytest.approx(sum(gini) / 2)
    assert summary.loc["xgboost", "normalized_gini_sd"] == pytest.approx(abs(gini[0] - gini[1]) / 2**0.5)
    assert summary.loc["xgboost", "dates"] == 2


def test_backtest_explains_an_immature_horizon(synthetic_lake, tmp_path):
    with pytest.raises(ValueError, match="no complete labels at 2024-06-30"):
        backtest.run_backtest(_settings(synthetic_lake, tmp_path), date(2024, 6, 30), 365, tmp_path / "work")


def test_backtest_wants_a_month_end(synthetic_lake, tmp_path):
    with pytest.raises(ValueError, match="month ends"):
        backtest.run_backtest(_settings(synthetic_lake, tmp_path), date(2023, 12, 15), 365, tmp_path / "work")


def test_a_horizon_longer_than_the_history_trains_on_a_shorter_window_and_carries(synthetic_lake, tmp_path):
    """Ten months of history, a 365-day horizon: no valid date lies a year before the test date,
    so train and valid learn the longest window that leaves a train date (ADR 0015) and the test
    rows are judged over the full year."""
    from clv_jobs.baselines import bg_nbd_gamma_gamma_predict

    as_of = date(2021, 10, 31)
    outcome = backtest.run_backtest(_settings(synthetic_lake, tmp_path), as_of, 365, tmp_path / "work")
    # Valid is the second month end (2021-02-28), one train date before it: 245 days to the test date.
    assert outcome.valid_date == date(2021, 2, 28) and outcome.train_dates == (date(2021, 1, 31), date(2021, 1, 31))
    assert outcome.label_horizon_days == 245
    metrics = outcome.metrics.set_index("model")
    # Judged against a year of realized revenue, the carried model still ranks far better than
    # chance (its level is the bias gate's business when it trains for real: ADR 0015).
    assert metrics.loc["xgboost", "normalized_gini"] > 0.4, metrics
    # BG/NBD's carry is exact: over 245 days, carried, it is BG/NBD over 365 days.
    database = tmp_path / "work" / f"{as_of}-365d" / "backtest.duckdb"
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        test = con.sql("select * from marts.fct_clv_training_examples where split = 'test'").df()
    test = test.assign(as_of_date=pd.to_datetime(test["as_of_date"]))
    direct = pd.Series(bg_nbd_gamma_gamma_predict(test, 365), index=test["customer_id"])
    carried = outcome.predictions.set_index("customer_id")["pred_bgnbd_gamma_gamma"]
    pd.testing.assert_series_equal(
        carried.sort_index(), direct.loc[carried.index].sort_index(), check_names=False, rtol=1e-6
    )
