"""The score stage: every customer with features at an as-of date, scored by the champion
(here or on SageMaker), replaces the lake partition `ml/scores/as_of_date=D/` atomically.

Any day can be scored: the spine holds month ends, and a day that is not one has its features
and labels built on demand, by the same dbt models and tests (ADR 0016)."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa

from clv_jobs import dates, dbt_cli, lake, ml_contracts, registry, warehouse
from clv_jobs.settings import Settings

__all__ = [
    "ScoreOutcome",
    "features_at",
    "score_days_for",
    "scored_dates",
    "land_scores",
    "run_score",
    "submit_score_sagemaker",
    "collect_score_sagemaker",
]


@dataclass
class ScoreOutcome:
    as_of_date: date
    model_version: str
    rows: int
    partition: str  # a folder or an s3:// URI
    tiers: dict[str, int]


def features_at(settings: Settings, as_of_date: date, progress=lambda m: None) -> pd.DataFrame:
    """fct_customer_features at one as-of date (one query). A day that is not a month end is
    built first when missing; fails when the date has no rows."""
    features = _read_features(settings, as_of_date, progress)
    if features.empty and not dates.is_month_end(as_of_date):
        build_score_days(settings, score_days_for(settings, as_of_date), progress)
        features = _read_features(settings, as_of_date, progress)
    if features.empty:
        raise ValueError(
            f"fct_customer_features has no rows at {as_of_date}: the day is outside the landed data"
            " (or a month end older than the spine's clv_as_of_months)"
        )
    return features


def newest_feature_date(settings: Settings) -> date:
    """The newest as-of date in fct_customer_features (what `clv-jobs score` scores by default)."""
    newest = warehouse.newest_as_of_date(settings, "marts.fct_customer_features")
    if newest is None:
        raise ValueError("fct_customer_features has no rows: run `clv-jobs dbt build` on landed data first")
    return newest


def _read_features(settings: Settings, as_of_date: date, progress) -> pd.DataFrame:
    progress(f"reading fct_customer_features at {as_of_date} (one query)")
    relation = f"(select * from marts.fct_customer_features where as_of_date = '{as_of_date}') as f"
    features = warehouse.read_mart(settings, relation)
    features["as_of_date"] = pd.to_datetime(features["as_of_date"])
    return features


def scored_dates(lake_dir) -> list[date]:
    """The as-of dates that have scores in the lake (the empty placeholder left out)."""
    return [date.fromisoformat(v) for v in ml_contracts.partition_values(lake_dir, "scores")]


def score_days_for(settings: Settings, as_of_date: date) -> list[date]:
    """The days besides month ends that scoring and monitoring `as_of_date` read features or
    labels at: the day itself, the scored day before it (the monitor's drift against the
    previous scoring) and the day scored one proxy window earlier (its proxy matures today)."""
    from clv_jobs.model import load_model_config

    window = int(load_model_config()["monitor"]["proxy_window_days"])
    scored = scored_dates(settings.lake_dir)
    earlier = [d for d in scored if d < as_of_date]
    days = {as_of_date, as_of_date - timedelta(days=window)} | ({max(earlier)} if earlier else set())
    return sorted(d for d in days if not dates.is_month_end(d) and (d == as_of_date or d in scored))


# The spine and its inputs' fingerprints, the two per-customer aggregates over it, and the two
# marts keyed by it. All four are incremental by as-of date (ADR 0017): only the new days are built.
SCORE_DAY_MODELS = (
    "int_as_of_dates",
    "int_as_of_date_fingerprints",
    "int_customer_order_features",
    "int_customer_web_features",
    "fct_customer_features",
    "fct_customer_labels",
)


def build_score_days(settings: Settings, days: list[date], progress=lambda m: None) -> None:
    """dbt build (models and their data tests) of the spine, features and labels at the month
    ends plus `days` (the var clv_score_as_of_dates)."""
    dbt_vars = {"clv_score_as_of_dates": [str(d) for d in days]}
    progress(f"building features and labels at {', '.join(map(str, days))}: dbt build of {', '.join(SCORE_DAY_MODELS)}")
    with tempfile.TemporaryDirectory(prefix="clv-score-days-") as work:
        command = dbt_cli.dbt_command(
            "build",
            "--select",
            *SCORE_DAY_MODELS,
            # Only the tests of these models (not those that also read the scores, say).
            "--indirect-selection",
            "cautious",
            # dbt unit tests pin the default vars (e.g. the spine's rows); this build adds days.
            "--exclude-resource-type",
            "unit_test",
            dbt_vars=dbt_vars,
            target=settings.dbt_target,
            project_dir=settings.dbt_project_dir,
            work_dir=Path(work),
        )
        proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        failures = [line for line in proc.stdout.splitlines() if "Error" in line or "FAIL" in line]
        raise RuntimeError(
            f"dbt build of the features at {', '.join(map(str, days))} failed: "
            + " | ".join(failures[:3] or proc.stdout.splitlines()[-3:])
        )


def land_scores(settings: Settings, as_of_date: date, version: str, table: pa.Table) -> ScoreOutcome:
    """Replace the lake partition ml/scores/as_of_date=D/ atomically with `table`."""
    partition = lake.LakeRoot(settings.lake_dir).write_partition(table, "ml", "scores", f"as_of_date={as_of_date}")
    counts = pd.Series(table.column("value_tier").to_numpy(zero_copy_only=False)).value_counts().to_dict()
    return ScoreOutcome(as_of_date, version, len(table), partition, counts)


def run_score(settings: Settings, as_of_date: date, progress=lambda m: None, reasons: str = "shap") -> ScoreOutcome:
    """Score every customer in fct_customer_features at `as_of_date` with the champion and
    replace the lake partition `ml/scores/as_of_date=D/` atomically."""
    from clv_jobs import score

    version, model = registry.require_champion()
    features = features_at(settings, as_of_date, progress)
    progress(f"scoring {len(features):,} customers with model version {version}")
    tiers = score.load_tiers(settings.dbt_project_dir / "seeds" / "clv_value_tiers.csv")
    table = score.score_frame(model, version, features, tiers, registry.now_utc(), reasons=reasons)
    return land_scores(settings, as_of_date, version, table)


def submit_score_sagemaker(settings: Settings, as_of_date: date, progress=lambda m: None, reasons: str = "shap") -> str:
    """Submit the champion's batch scoring of `as_of_date` as a processing job; returns its name."""
    from clv_jobs.backends import sagemaker_launcher as launcher
    from clv_jobs.score import check_reasons

    check_reasons(reasons)
    sm = launcher.SageMakerSettings.from_env()
    version, model = registry.require_champion()
    features = features_at(settings, as_of_date, progress)
    return launcher.submit_scoring(features, model, version, as_of_date, registry.now_utc(), reasons, sm, progress)


def collect_score_sagemaker(settings: Settings, job_name: str, progress=lambda m: None, poll_s: float = 30.0):
    """Wait for a scoring job and land its scores in the lake, as `run_score` does."""
    from clv_jobs import score
    from clv_jobs.backends import sagemaker_launcher as launcher

    as_of_date, version, table = launcher.collect_scoring(job_name, progress, poll_s)
    # Each instance ranked its own shard: percentiles and tiers are of the whole population.
    tiers = score.load_tiers(settings.dbt_project_dir / "seeds" / "clv_value_tiers.csv")
    return land_scores(settings, as_of_date, version, score.rank_population(table, tiers))
