"""SageMaker backend: the same training and scoring code behind SageMaker's container contract
(DESIGN §8), as two entry points a container runs.

Training job (`clv-sagemaker-train`): SageMaker mounts the `train` channel at
`SM_CHANNEL_TRAIN` (default `/opt/ml/input/data/train`) holding `training_examples.parquet`
(the `fct_clv_training_examples` mart) and `features.json` (the feature list from dbt's
manifest); hyperparameters arrive in `SM_HPS` or `/opt/ml/input/config/hyperparameters.json`
(any key of `[xgboost]` in conf/model.toml, plus `tune_trials` / `tune_timeout_s` to tune);
the model goes to `SM_MODEL_DIR` (`/opt/ml/model`, tarred to S3 by SageMaker as model.tar.gz)
and to `SM_OUTPUT_DATA_DIR` (`/opt/ml/output/data`, output.tar.gz): the test metrics, the
test rows with every model's prediction and the fit summary, which the launcher
(`sagemaker_launcher.collect_training`) evaluates, gates and registers like a local run.

Batch scoring as a processing job (`clv-sagemaker-score`): the model under
`/opt/ml/processing/model`, the features of one as-of date under `/opt/ml/processing/input`
(`*.parquet`), the scores written to `/opt/ml/processing/output/scores.parquet`; each path
can be overridden with `CLV_SM_MODEL_DIR`, `CLV_SM_INPUT_DIR`, `CLV_SM_OUTPUT_DIR`.

Both call `train.train_models` and `score.score_frame`, exactly what the local backend runs.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

__all__ = [
    "train_entry",
    "score_entry",
    "current_host",
    "read_hyperparameters",
    "TIERS",
    "TEST_ROWS_FILE",
    "FIT_SUMMARY_FILE",
]

# The value tiers of seeds/clv_value_tiers.csv, for containers that do not ship the dbt project.
TIERS = [("platinum", 0.95), ("gold", 0.80), ("silver", 0.50), ("bronze", 0.0)]
TEST_ROWS_FILE = "test_predictions.parquet"
FIT_SUMMARY_FILE = "fit_summary.json"


def read_hyperparameters() -> dict:
    """SageMaker's hyperparameters (all strings on the wire), parsed as JSON where they are."""
    raw = os.environ.get("SM_HPS")
    if raw is None:
        path = Path(os.environ.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")) / "hyperparameters.json"
        raw = path.read_text() if path.exists() else "{}"
    parsed = {}
    for key, value in json.loads(raw).items():
        try:
            parsed[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def train_entry() -> None:
    from clv_jobs import report
    from clv_jobs.features import FeatureSpec
    from clv_jobs.model import load_model_config, order_examples
    from clv_jobs.regressor import TuneBudget
    from clv_jobs.train import train_models

    channel = Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    output_dir = Path(os.environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    for required in ("training_examples.parquet", "features.json"):
        if not (channel / required).exists():
            raise SystemExit(f"clv-sagemaker-train: {channel / required} missing from the train channel")
    spec = FeatureSpec(**json.loads((channel / "features.json").read_text()))
    config = load_model_config()
    hyperparameters = read_hyperparameters()
    # Hyperparameters override the versioned parameters of conf/model.toml, key by key.
    config["xgboost"].update({k: v for k, v in hyperparameters.items() if k in config["xgboost"]})
    tune = None
    if "tune_trials" in hyperparameters:
        tune = TuneBudget(int(hyperparameters["tune_trials"]), float(hyperparameters.get("tune_timeout_s", 600)))
    frame = order_examples(pd.read_parquet(channel / "training_examples.parquet"))
    horizon = int(frame["horizon_days"].iloc[0])
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731 - CloudWatch gets stderr
    result = train_models(frame, spec, config, horizon, progress=progress, tune=tune)
    result.model.save(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    metrics = report.metrics_table(result.test, config["labels"]["revenue"], result.prediction_columns)
    metrics.to_csv(output_dir / "metrics.csv", index=False)
    result.test.to_parquet(output_dir / TEST_ROWS_FILE, index=False)
    summary = {
        "validation": result.validation,
        "best_iteration": result.best_iteration,
        "prediction_columns": result.prediction_columns,
        "tuning": result.tuning,
        "selected": result.selected,
        "level": result.level,
    }
    (output_dir / FIT_SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    print(metrics.to_string(index=False), flush=True)


def current_host() -> str | None:
    """This instance's name in a multi-instance job (SageMaker's resourceconfig.json), else None."""
    path = Path(os.environ.get("CLV_SM_RESOURCE_CONFIG", "/opt/ml/config/resourceconfig.json"))
    if not path.exists():
        return None
    return json.loads(path.read_text())["current_host"]


def score_entry() -> None:
    """Score the shard of customers this instance received (all of them on one instance). The
    launcher fitted the BTYD features on the whole population and recomputes percentiles and
    tiers over the merged shards; an instance whose shard is empty writes nothing."""
    from clv_jobs.model import ClvModel
    from clv_jobs.score import score_frame

    model_dir = Path(os.environ.get("CLV_SM_MODEL_DIR", "/opt/ml/processing/model"))
    input_dir = Path(os.environ.get("CLV_SM_INPUT_DIR", "/opt/ml/processing/input"))
    output_dir = Path(os.environ.get("CLV_SM_OUTPUT_DIR", "/opt/ml/processing/output"))
    host = current_host()
    files = sorted(input_dir.glob("*.parquet"))
    if not files:
        if host is not None:
            print(f"clv-sagemaker-score: {host} received no shard under {input_dir}: nothing to score", flush=True)
            return
        raise SystemExit(f"clv-sagemaker-score: no *.parquet under {input_dir}")
    features = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    features["as_of_date"] = pd.to_datetime(features["as_of_date"])
    model = ClvModel.load(model_dir)
    version = os.environ.get("CLV_MODEL_VERSION", "sagemaker")
    scored_at = datetime.fromisoformat(os.environ["CLV_SCORED_AT"]) if "CLV_SCORED_AT" in os.environ else None
    table = score_frame(
        model,
        version,
        features,
        TIERS,
        scored_at or datetime.now(UTC).replace(tzinfo=None),
        reasons=os.environ.get("CLV_REASONS", "shap"),
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir / (f"scores-{host}.parquet" if host else "scores.parquet")
    pq.write_table(table, out, compression="zstd")
    print(f"scored {len(table):,} customers -> {out}", flush=True)
