"""`clv-jobs backtest`: how would the product have done at an earlier date, on any loaded data?

Builds a scratch DuckDB warehouse from the lake with dbt, with the as-of spine ending at D, the
test as-of date D and the horizon H (dbt vars), so every feature, the outlier cap and every
training label use only data on or before D (DESIGN §5; the split rule of ADR 0003). Then the
same training as `clv-jobs train` (objective chosen on validation, refit, churn head) and the
baselines predict revenue over (D, D + H] for every customer with features at D; only that
evaluation reads data after D. Nothing is registered: a backtest is an experiment.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from clv_jobs import dates as calendar
from clv_jobs import dbt_cli, lake, report
from clv_jobs.evaluate import paired_bootstrap
from clv_jobs.features import feature_spec_from_manifest
from clv_jobs.model import load_model_config, order_examples
from clv_jobs.settings import Settings
from clv_jobs.train import train_models

__all__ = ["BacktestOutcome", "run_backtest", "rolling_summary", "HEADLINE"]

HEADLINE = ["rmse", "mae", "normalized_gini", "top10_capture", "bias"]


@dataclass
class BacktestOutcome:
    as_of_date: date
    horizon_days: int
    metrics: pd.DataFrame  # one row per model: xgboost, the baselines, the oracle when known
    predictions: pd.DataFrame  # customer_id, the label and pred_<model> for every customer at D
    rows: dict[str, int]  # training examples by split
    train_dates: tuple[date, date]
    valid_date: date
    objective: str
    oracle_note: str
    report_dir: Path
    label_horizon_days: int  # < horizon_days: a short history, carried (ADR 0015)
    # The candidate minus BG/NBD + Gamma-Gamma on RMSE and normalized Gini, with 95 % bootstrap
    # intervals over customers (evaluate.paired_bootstrap): whether the test date tells them apart.
    versus_btyd: pd.DataFrame


def _data_end(lake_dir: Path) -> date:
    """The data's last date as dbt's spine takes it: the last transaction date, bounded by the
    newest landing (a line dated in the future never stretches it)."""
    glob = str(Path(lake_dir) / "raw" / "transactions" / "*" / "*.parquet")
    query = (
        "select least(max(cast(InvoiceDate as date)), max(ingest_date)) from read_parquet("
        f"'{glob}', hive_partitioning = true, hive_types = {{'ingest_date': date}})"
    )
    with duckdb.connect() as con:
        last = con.execute(query).fetchall()[0][0]
    if last is None:
        raise ValueError(f"{lake_dir}: no transactions in the lake (generate or import data first)")
    return last


def _build_scratch_warehouse(settings: Settings, as_of: date, horizon: int, work: Path, progress) -> Path:
    database = work / "backtest.duckdb"
    database.unlink(missing_ok=True)
    dbt_vars = {"clv_test_as_of_date": str(as_of), "clv_as_of_last_date": str(as_of), "clv_horizon_days": horizon}
    command = dbt_cli.dbt_command(
        "build",
        "--select",
        "+fct_clv_training_examples",
        "--indirect-selection",
        "cautious",
        # dbt unit tests pin the default vars (e.g. the spine's splits); this build changes them.
        "--exclude-resource-type",
        "unit_test",
        dbt_vars=dbt_vars,
        target="dev",
        project_dir=settings.dbt_project_dir,
        work_dir=work,
    )
    env = {**os.environ, "CLV_LAKE_DIR": str(Path(settings.lake_dir).resolve()), "CLV_DUCKDB_PATH": str(database)}
    progress(f"dbt build of the features and labels up to {as_of} into {database} (vars {dbt_vars})")
    log = work / "dbt_build.log"
    with open(log, "w") as out:
        code = subprocess.run(
            command, cwd=settings.dbt_project_dir, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if code != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-25:])
        raise RuntimeError(f"dbt build for the backtest failed (full log: {log}):\n{tail}")
    return database


def run_backtest(
    settings: Settings, as_of_date: date, horizon_days: int, work_dir: Path, progress=lambda m: None
) -> BacktestOutcome:
    if not calendar.is_month_end(as_of_date):
        raise ValueError(f"--as-of-date {as_of_date}: as-of dates are month ends (e.g. 1998-03-31)")
    if horizon_days < 1:
        raise ValueError(f"--horizon-days {horizon_days}: must be at least 1")
    lake.local_dir(settings.lake_dir)  # the scratch dbt build reads the lake with DuckDB
    data_end = _data_end(settings.lake_dir)
    label_end = as_of_date + pd.Timedelta(days=horizon_days).to_pytimedelta()
    if label_end > data_end:
        raise ValueError(
            f"no complete labels at {as_of_date}: {as_of_date} + {horizon_days} days is {label_end}, after the "
            f"data's last date {data_end}; pick an earlier --as-of-date or a shorter --horizon-days"
        )
    # Absolute: dbt runs from the project folder, which need not be the current one.
    work = Path(work_dir).resolve() / f"{as_of_date}-{horizon_days}d"
    work.mkdir(parents=True, exist_ok=True)
    database = _build_scratch_warehouse(settings, as_of_date, horizon_days, work, progress)

    with duckdb.connect(str(database), read_only=True) as con:
        frame = con.sql("select * from marts.fct_clv_training_examples").df()
    frame = order_examples(frame)
    test = frame[frame["split"] == "test"]
    if test.empty or test["as_of_date"].dt.date.iloc[0] != as_of_date:
        raise ValueError(f"the backtest build has no test rows at {as_of_date} (see {work / 'dbt_build.log'})")
    config = load_model_config()
    label = config["labels"]["revenue"]
    spec = feature_spec_from_manifest(work / "target" / "manifest.json")
    result = train_models(frame, spec, config, horizon_days, progress)
    scored = result.test
    columns = list(result.prediction_columns)

    scored, oracle_note = report.add_oracle(scored, columns, settings.lake_dir, as_of_date, horizon_days)

    metrics = report.metrics_table(scored, label, columns)
    splits = frame[frame["split"].isin(["train", "valid", "test"])]
    dates = splits.groupby("split")["as_of_date"].agg(["min", "max"])
    report_dir = Path(settings.reports_dir) / f"backtest-{as_of_date}-{horizon_days}d"
    report_dir.mkdir(parents=True, exist_ok=True)
    metrics.to_csv(report_dir / "metrics.csv", index=False)
    progress("candidate vs BG/NBD + Gamma-Gamma: 1,000 bootstrap resamples of the test customers")
    versus_btyd = paired_bootstrap(scored[label], scored["pred_xgboost"], scored["pred_bgnbd_gamma_gamma"])
    versus_btyd.to_csv(report_dir / "candidate_vs_btyd.csv", index=False)
    predictions = scored[["customer_id", label, *columns]].reset_index(drop=True)
    # Every customer's prediction by every model, for analyses beyond the headline metrics.
    predictions.assign(as_of_date=as_of_date, horizon_days=horizon_days).to_parquet(
        report_dir / "predictions.parquet", index=False
    )
    return BacktestOutcome(
        as_of_date=as_of_date,
        horizon_days=horizon_days,
        metrics=metrics,
        predictions=predictions,
        rows={k: int(v) for k, v in splits["split"].value_counts().items()},
        train_dates=(dates.loc["train", "min"].date(), dates.loc["train", "max"].date()),
        valid_date=dates.loc["valid", "min"].date(),
        objective=f"{result.selected} (family {result.model.family})",
        oracle_note=oracle_note,
        report_dir=report_dir,
        label_horizon_days=result.model.label_days,
        versus_btyd=versus_btyd,
    )


def rolling_summary(outcomes: list[BacktestOutcome]) -> pd.DataFrame:
    """Rolling origin: mean and sd over the as-of dates of each model's headline metrics, one row
    per model (columns `<metric>_mean`, `<metric>_sd`, and `dates`)."""
    frames = [o.metrics.assign(as_of_date=o.as_of_date) for o in outcomes]
    stacked = pd.concat(frames, ignore_index=True)
    grouped = stacked.groupby("model", sort=False)[HEADLINE]
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_sd"))
    summary["dates"] = grouped.size()
    ordered = [c for metric in HEADLINE for c in (f"{metric}_mean", f"{metric}_sd")]
    return summary[[*ordered, "dates"]].reset_index()
