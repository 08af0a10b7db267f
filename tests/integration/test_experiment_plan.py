"""`clv-jobs experiment plan`: the sample size from the shop's own 30-day baseline."""

from __future__ import annotations

import duckdb
import pytest
from scipy import stats
from typer.testing import CliRunner

from clv_jobs.cli import app
from clv_jobs.cli.experiments import baseline_from_warehouse
from conftest import PROJECT_DIR, job_settings


def test_plan_prints_the_textbook_sizes():
    result = CliRunner().invoke(
        app,
        ["experiment", "plan", "--revenue-mean", "10", "--revenue-sd", "40", "--conversion", "0.08", "--mde", "0.2"],
    )
    assert result.exit_code == 0, result.output
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    # Welch, a lift of 20 % scaling the spread too: (40^2 + 48^2) z^2 / 2^2 per arm
    revenue = int(-(-(40**2 + 48**2) * z**2 // 2**2))
    p1, p2 = 0.08, 0.096
    pbar = (p1 + p2) / 2
    top = (
        stats.norm.ppf(0.975) * (2 * pbar * (1 - pbar)) ** 0.5
        + stats.norm.ppf(0.8) * (p1 * (1 - p1) + p2 * (1 - p2)) ** 0.5
    )
    conversion = int(-(-(top**2) // 0.016**2))
    assert f"control {revenue:,} + treatment {revenue:,}" in result.output
    assert f"control {conversion:,} + treatment {conversion:,}" in result.output


def test_plan_rejects_an_impossible_effect():
    result = CliRunner().invoke(app, ["experiment", "plan", "--mde", "1.5", "--revenue-mean", "1"])
    assert result.exit_code != 0 and "between 0 and 1" in result.output


def test_the_baseline_is_the_newest_fully_observed_30_days(duckdb_build):
    path, build = duckdb_build
    assert build.returncode == 0
    settings = job_settings(PROJECT_DIR / "unused", PROJECT_DIR / "reports", PROJECT_DIR / "target", path)
    base = baseline_from_warehouse(settings)
    with duckdb.connect(str(path), read_only=True) as con:
        last = con.execute("select max(as_of_date) from marts.fct_customer_labels").fetchone()[0]
        n, mean, sd, conversion = con.execute(
            "select count(*), avg(revenue_next_30d_usd), stddev_samp(revenue_next_30d_usd),"
            " avg(case when purchase_days_next_30d > 0 then 1.0 else 0.0 end)"
            " from marts.fct_customer_labels where as_of_date = ("
            "   select max(as_of_date) from marts.fct_customer_labels where as_of_date + interval 30 day <= ?)",
            [last],
        ).fetchone()
    assert base["as_of_date"] < last
    assert (base["customers"], base["revenue_mean"], base["revenue_sd"], base["conversion"]) == pytest.approx(
        (n, mean, sd, conversion)
    )
