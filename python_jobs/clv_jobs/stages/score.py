"""The score stage: every customer with features at an as-of date, scored by the champion
(here or on SageMaker), replaces the lake partition `ml/scores/as_of_date=D/` atomically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa

from clv_jobs import lake, registry, warehouse
from clv_jobs.settings import Settings

__all__ = [
    "ScoreOutcome",
    "features_at",
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
    """fct_customer_features at one as-of date (one query); fails when the date has no rows."""
    progress(f"reading fct_customer_features at {as_of_date} (one query)")
    relation = f"(select * from marts.fct_customer_features where as_of_date = '{as_of_date}') as f"
    features = warehouse.read_mart(settings, relation)
    if features.empty:
        raise ValueError(f"fct_customer_features has no rows at {as_of_date}: as-of dates are month ends of the spine")
    features["as_of_date"] = pd.to_datetime(features["as_of_date"])
    return features


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
