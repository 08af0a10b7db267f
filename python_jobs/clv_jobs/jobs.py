"""The jobs behind `clv-jobs train / score / promote / rollback`: I/O at the edges (warehouse
reads, lake writes, MLflow), the pure work in train / evaluate / score."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
from mlflow.tracking import MlflowClient

from clv_jobs import alerts, evaluate, lake, landing, monitor, registry, report, warehouse
from clv_jobs.features import feature_spec_from_manifest
from clv_jobs.settings import Settings
from clv_jobs.train import Baselines, ClvModel, TuneBudget, load_model_config, order_examples, train_models

__all__ = [
    "TrainOutcome",
    "ScoreOutcome",
    "run_train",
    "read_training_examples",
    "register_trained",
    "run_score",
    "features_at",
    "require_champion",
    "land_scores",
    "submit_train_sagemaker",
    "collect_train_sagemaker",
    "submit_score_sagemaker",
    "collect_score_sagemaker",
    "run_promote",
    "run_rollback",
    "load_champion",
    "load_model_version",
    "EvaluateOutcome",
    "run_evaluate",
    "MonitorOutcome",
    "run_monitor",
    "ClvPyfunc",
    "read_mart",
]

SLICES = ["country", "acquisition_channel"]
SHAP_SAMPLE_ROWS = 5_000


class ClvPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow wrapper: the registered artifact is a ClvModel directory."""

    def load_context(self, context):
        self.model = ClvModel.load(Path(context.artifacts["clv_model"]))

    # The hints keep MLflow from warning at class definition (it wants them for validation).
    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        return self.model.predict_revenue(model_input)


@dataclass
class TrainOutcome:
    run_id: str
    model_version: str
    decision: str
    reasons: list[str]
    metrics: pd.DataFrame
    report_dir: Path


def read_mart(settings: Settings, relation: str) -> pd.DataFrame:
    """One bulk read of a mart, as pandas."""
    return warehouse.read_relation(relation, settings.dbt_target, settings.duckdb_path, settings.pg_dsn).to_pandas()


def _manifest_hash(manifest_path: Path) -> str:
    nodes = json.loads(manifest_path.read_text())["nodes"]
    digest = hashlib.sha256()
    for key in sorted(nodes):
        digest.update(key.encode())
        digest.update(nodes[key].get("checksum", {}).get("checksum", "").encode())
    return digest.hexdigest()


def _git_commit(directory: Path) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fingerprint(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame.sort_values(["customer_id", "as_of_date"]), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def _date(value) -> date:
    return pd.Timestamp(value).date()


def _test_as_of(frame: pd.DataFrame) -> date:
    test_dates = frame.loc[frame["split"] == "test", "as_of_date"].unique()
    if len(test_dates) != 1:
        raise ValueError(f"fct_clv_training_examples: expected one test as-of date, found {len(test_dates)}")
    return _date(test_dates[0])


def read_training_examples(settings: Settings, as_of_date: date | None, progress) -> pd.DataFrame:
    """The training mart, ordered, checked to have the requested test as-of date."""
    progress("reading fct_clv_training_examples (one query)")
    frame = order_examples(read_mart(settings, "marts.fct_clv_training_examples"))
    test_as_of = _test_as_of(frame)
    if as_of_date is not None and as_of_date != test_as_of:
        raise ValueError(
            f"--as-of-date {as_of_date} is not the marts' test as-of date {test_as_of}: rebuild them "
            f"with dbt build --vars '{{clv_test_as_of_date: {as_of_date}}}'"
        )
    return frame


def run_train(
    settings: Settings, as_of_date: date | None = None, progress=lambda m: None, tune: TuneBudget | None = None
) -> TrainOutcome:
    """Train here, then evaluate, gate and register (`register_trained`)."""
    config = load_model_config()
    spec = feature_spec_from_manifest(settings.dbt_target_path / "manifest.json")
    frame = read_training_examples(settings, as_of_date, progress)
    result = train_models(frame, spec, config, int(frame["horizon_days"].iloc[0]), progress, tune)
    return register_trained(settings, frame, spec, config, result)


def register_trained(
    settings: Settings, frame: pd.DataFrame, spec, config: dict, result, extra_tags: dict | None = None
) -> TrainOutcome:
    """Evaluate a fit on the test rows beside every baseline, log it to MLflow, register it and
    apply the gates. The fit ran here (`run_train`) or on SageMaker (the launcher)."""
    label = config["labels"]["revenue"]
    manifest = settings.dbt_target_path / "manifest.json"
    test_as_of = _test_as_of(frame)
    horizon = int(frame["horizon_days"].iloc[0])
    test = result.test
    columns = list(result.prediction_columns)
    test, _ = report.add_oracle(test, columns, settings.lake_dir, test_as_of, horizon)

    evaluation = _evaluate(result.model, test, label, columns, config["gates"])
    metrics, slices, fairness, importance = (
        evaluation.metrics,
        evaluation.slices,
        evaluation.fairness,
        evaluation.importance,
    )
    gates = config["gates"]

    mlflow.set_tracking_uri(registry.tracking_uri())
    mlflow.set_experiment("clv")
    client = MlflowClient()
    champion = load_champion(client)
    champion_metrics = None
    if champion is not None:
        champion_metrics = evaluate.regression_metrics(test[label], champion[1].predict_revenue(test))
    by_model = {row["model"]: row for row in metrics.to_dict("records")}
    gate = registry.apply_gates(by_model, fairness["ratio"], gates, champion_metrics)

    split_dates = frame.groupby("split")["as_of_date"].agg(["min", "max"])
    as_of = {
        "train_first": str(_date(split_dates.loc["train", "min"])),
        "train_last": str(_date(split_dates.loc["train", "max"])),
        "valid": str(_date(split_dates.loc["valid", "min"])),
        "test": str(test_as_of),
        "horizon_days": horizon,
    }
    rows = frame["split"].value_counts().to_dict()
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run() as run:
        tmp = Path(tmp)
        mlflow.set_tags(
            {
                "git_commit": _git_commit(settings.dbt_project_dir),
                "dbt_manifest_hash": _manifest_hash(manifest),
                "training_data_fingerprint": _fingerprint(frame[["customer_id", "as_of_date", label]]),
                "test_as_of_date": str(test_as_of),
                **(extra_tags or {}),
            }
        )
        mlflow.log_params(
            {
                "objective": result.model.objective,
                "best_iteration": result.best_iteration,
                "horizon_days": horizon,
                **{f"split_{k}": v for k, v in as_of.items()},
                **{f"xgboost_{k}": v for k, v in config["xgboost"].items() if k != "objectives"},
            }
        )
        mlflow.log_dict(config, "conf/model.json")
        if result.tuning is not None:
            mlflow.log_dict(result.tuning, "tuning.json")
            mlflow.log_params({f"tuned_{k}": v for k, v in result.tuning["params"].items()})
            mlflow.log_metric("tuning_trials", result.tuning["trials"])
        mlflow.log_dict({"features": spec.features, "categorical": spec.categorical}, "features.json")
        for objective, values in result.validation.items():
            for metric, value in values.items():
                mlflow.log_metric(f"valid_{metric}__{objective.replace(':', '_')}", value)
        _log_test_metrics(evaluation)
        files = _write_evaluation(evaluation, test, label, columns, tmp)
        _log_evaluation(files)
        model_dir = result.model.save(tmp / "clv_model")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=ClvPyfunc(),
            artifacts={"clv_model": str(model_dir)},
            pip_requirements=["xgboost", "pandas"],
        )
        version = str(mlflow.register_model(info.model_uri, registry.MODEL_NAME).version)
        decision = _decide(client, version, gate, champion)
        card = report.model_card(
            model_version=version,
            run_id=run.info.run_id,
            as_of=as_of,
            rows=rows,
            objective=result.model.objective,
            metrics=metrics,
            slices=slices,
            fairness=fairness,
            gate_reasons=gate.reasons,
            decision=decision,
            importance=importance,
        )
        (tmp / "model_card.md").write_text(card)
        mlflow.log_artifact(str(tmp / "model_card.md"))
        report_dir = settings.reports_dir / f"model-{version}"
        shutil.rmtree(report_dir, ignore_errors=True)
        report_dir.mkdir(parents=True)
        for path in [*files, tmp / "model_card.md"]:
            shutil.copy(path, report_dir / path.name)

    _land_evaluations(settings.lake_dir, run.info.run_id, version, test_as_of, metrics, slices, fairness)
    _land_decision(settings.lake_dir, run.info.run_id, version, decision, gate.reasons, by_model["xgboost"], test_as_of)
    return TrainOutcome(run.info.run_id, version, decision, gate.reasons, metrics, report_dir)


@dataclass
class Evaluation:
    metrics: pd.DataFrame  # one row per model
    slices: pd.DataFrame  # the candidate's metrics per slice value
    fairness: dict
    importance: pd.Series  # mean |SHAP| per feature


def _evaluate(model: ClvModel, test: pd.DataFrame, label: str, columns: list[str], gates: dict) -> Evaluation:
    """Every model's metrics on the test rows (pred_<name> columns), the candidate's slices,
    fairness ratio and SHAP importance."""
    return Evaluation(
        metrics=report.metrics_table(test, label, columns),
        slices=report.slice_table(test, label, "pred_xgboost", SLICES),
        fairness={
            "slice": gates["fairness_slice"],
            "threshold": gates["min_disparate_impact_ratio"],
            "ratio": evaluate.disparate_impact_ratio(test["pred_xgboost"], test[gates["fairness_slice"]]),
        },
        importance=report.shap_importance(
            # TreeSHAP costs trees x leaves x depth^2 per row; a global mean |SHAP| from a
            # seeded sample of rows is as informative and bounded in time.
            model.contributions(test.sample(min(len(test), SHAP_SAMPLE_ROWS), random_state=0)),
            model.encoder.feature_names,
        ),
    )


def _write_evaluation(evaluation: Evaluation, test, label, columns, out_dir: Path) -> list[Path]:
    """Plots and tables of an evaluation into `out_dir`; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = report.write_plots(test, label, columns, evaluation.importance, out_dir / "plots")
    evaluation.metrics.to_csv(out_dir / "metrics.csv", index=False)
    evaluation.slices.to_csv(out_dir / "slices.csv", index=False)
    evaluate.decile_table(test[label], test["pred_xgboost"]).to_csv(out_dir / "deciles.csv", index=False)
    return [*files, out_dir / "metrics.csv", out_dir / "slices.csv", out_dir / "deciles.csv"]


def _log_test_metrics(evaluation: Evaluation) -> None:
    """Every model's test metrics as `<model>__<metric>`, and the candidate's fairness ratio."""
    for row in evaluation.metrics.to_dict("records"):
        for key, value in row.items():
            if key != "model":
                mlflow.log_metric(f"{row['model']}__{key}", value)
    mlflow.log_metric("xgboost__disparate_impact_ratio", evaluation.fairness["ratio"])


def _log_evaluation(files: list[Path]) -> None:
    for path in files:
        mlflow.log_artifact(str(path), "plots" if path.suffix == ".png" else "evaluation")


def _decide(client: MlflowClient, version: str, gate: registry.GateResult, champion) -> str:
    if not gate.passed:
        return "rejected"
    client.set_registered_model_alias(registry.MODEL_NAME, "challenger", version)
    if champion is None:
        client.set_registered_model_alias(registry.MODEL_NAME, "champion", version)
        return "champion"
    return "challenger"


def load_champion(client: MlflowClient | None = None) -> tuple[str, ClvModel] | None:
    """(version, model) of the registry's champion, or None when there is none yet."""
    mlflow.set_tracking_uri(registry.tracking_uri())
    client = client or MlflowClient()
    try:
        version = client.get_model_version_by_alias(registry.MODEL_NAME, "champion")
    except mlflow.exceptions.MlflowException:
        return None
    return str(version.version), _download_model(f"models:/{registry.MODEL_NAME}/{version.version}")


def load_model_version(version: str) -> ClvModel:
    """A registered version of the model, whatever its alias."""
    mlflow.set_tracking_uri(registry.tracking_uri())
    return _download_model(f"models:/{registry.MODEL_NAME}/{version}")


def _download_model(uri: str) -> ClvModel:
    local = mlflow.artifacts.download_artifacts(uri)
    return ClvModel.load(next(Path(local).rglob("clv_model.json")).parent)


def _land_evaluations(lake_dir, run_id, version, test_as_of, metrics, slices, fairness) -> None:
    rows = []
    for record in metrics.to_dict("records"):
        for metric, value in record.items():
            if metric != "model":
                rows.append(("all", "all", record["model"], metric, float(value)))
    for record in slices.to_dict("records"):
        for metric in ("rmse", "mae", "normalized_gini", "spearman", "top10_capture", "bias", "mean_prediction"):
            rows.append((record["slice_name"], str(record["slice_value"]), "xgboost", metric, float(record[metric])))
    rows.append((fairness["slice"], "all", "xgboost", "disparate_impact_ratio", float(fairness["ratio"])))
    table = pa.table(
        {
            "model_version": [str(version)] * len(rows),
            "test_as_of_date": pa.array([test_as_of] * len(rows), pa.date32()),
            "slice_name": [r[0] for r in rows],
            "slice_value": [r[1] for r in rows],
            "model_name": [r[2] for r in rows],
            "metric": [r[3] for r in rows],
            "value": [r[4] for r in rows],
        }
    )
    lake.LakeRoot(lake_dir).write_partition(table, "ml", "evaluations", f"run_id={run_id}")


def _land_decision(lake_dir, run_id, version, action, reasons, metrics, test_as_of) -> None:
    decided_at = registry.now_utc()
    table = pa.table(
        {
            "run_id": [run_id],
            "model_version": [str(version)],
            "action": [action],
            "reasons": ["; ".join(reasons) or "all gates passed"],
            "normalized_gini": [float(metrics["normalized_gini"])],
            "rmse": [float(metrics["rmse"])],
            "test_as_of_date": pa.array([test_as_of], pa.date32()),
            "decided_at": pa.array([decided_at], pa.timestamp("us")),
        }
    )
    decision_id = f"{run_id}-{action}-{decided_at:%Y%m%dT%H%M%S%f}"
    lake.LakeRoot(lake_dir).write_partition(table, "ml", "decisions", f"decision_id={decision_id}")


@dataclass
class EvaluateOutcome:
    run_id: str
    model_version: str
    test_as_of_date: date
    metrics: pd.DataFrame
    fairness: dict
    report_dir: Path


def run_evaluate(settings: Settings, version: str | None = None, progress=lambda m: None) -> EvaluateOutcome:
    """Evaluate a registered version (default: the champion) on the marts' current test as-of
    date, beside baselines fitted on the current train + valid rows: e.g. the champion once a
    newer test date has matured. Logged as its own MLflow run; evaluations land in the lake."""
    config = load_model_config()
    label, active = config["labels"]["revenue"], config["labels"]["active"]
    if version is None:
        champion = load_champion()
        if champion is None:
            raise ValueError(f"no champion in the registry ({registry.tracking_uri()}): give --model-version")
        version, model = champion
    else:
        model = load_model_version(version)
    progress("reading fct_clv_training_examples (one query)")
    frame = order_examples(read_mart(settings, "marts.fct_clv_training_examples"))
    test = frame[frame["split"] == "test"].copy()
    if test.empty:
        raise ValueError("fct_clv_training_examples has no 'test' rows: nothing to evaluate on")
    test_as_of = _date(test["as_of_date"].iloc[0])
    if model.horizon_days != int(test["horizon_days"].iloc[0]):
        raise ValueError(
            f"model version {version} predicts {model.horizon_days} days ahead but the marts' labels are "
            f"{int(test['horizon_days'].iloc[0])} days"
        )
    progress(f"predicting {len(test):,} test rows at {test_as_of} with model version {version}; fitting baselines")
    test["pred_xgboost"] = model.predict_revenue(test)
    columns = ["pred_xgboost"]
    baselines = Baselines.fit(frame[frame["split"].isin(["train", "valid"])], label, active, model.horizon_days)
    for name, values in baselines.predict(test).items():
        test[f"pred_{name}"] = values
        columns.append(f"pred_{name}")
    test, _ = report.add_oracle(test, columns, settings.lake_dir, test_as_of, model.horizon_days)
    evaluation = _evaluate(model, test, label, columns, config["gates"])

    mlflow.set_tracking_uri(registry.tracking_uri())
    mlflow.set_experiment("clv")
    report_dir = settings.reports_dir / f"evaluation-{version}-{test_as_of}"
    shutil.rmtree(report_dir, ignore_errors=True)
    with mlflow.start_run(run_name=f"evaluate-v{version}-{test_as_of}") as run:
        mlflow.set_tags({"job": "evaluate", "model_version": version, "test_as_of_date": str(test_as_of)})
        _log_test_metrics(evaluation)
        _log_evaluation(_write_evaluation(evaluation, test, label, columns, report_dir))
    _land_evaluations(
        settings.lake_dir,
        run.info.run_id,
        version,
        test_as_of,
        evaluation.metrics,
        evaluation.slices,
        evaluation.fairness,
    )
    return EvaluateOutcome(run.info.run_id, version, test_as_of, evaluation.metrics, evaluation.fairness, report_dir)


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
    features = read_mart(settings, relation)
    if features.empty:
        raise ValueError(f"fct_customer_features has no rows at {as_of_date}: as-of dates are month ends of the spine")
    features["as_of_date"] = pd.to_datetime(features["as_of_date"])
    return features


def require_champion() -> tuple[str, ClvModel]:
    champion = load_champion()
    if champion is None:
        raise ValueError(f"no champion in the registry ({registry.tracking_uri()}): run `clv-jobs train` first")
    return champion


def land_scores(settings: Settings, as_of_date: date, version: str, table: pa.Table) -> ScoreOutcome:
    """Replace the lake partition ml/scores/as_of_date=D/ atomically with `table`."""
    partition = lake.LakeRoot(settings.lake_dir).write_partition(table, "ml", "scores", f"as_of_date={as_of_date}")
    counts = pd.Series(table.column("value_tier").to_numpy(zero_copy_only=False)).value_counts().to_dict()
    return ScoreOutcome(as_of_date, version, len(table), partition, counts)


def run_score(settings: Settings, as_of_date: date, progress=lambda m: None, reasons: str = "shap") -> ScoreOutcome:
    """Score every customer in fct_customer_features at `as_of_date` with the champion and
    replace the lake partition `ml/scores/as_of_date=D/` atomically."""
    from clv_jobs import score

    version, model = require_champion()
    features = features_at(settings, as_of_date, progress)
    progress(f"scoring {len(features):,} customers with model version {version}")
    tiers = score.load_tiers(settings.dbt_project_dir / "seeds" / "clv_value_tiers.csv")
    table = score.score_frame(model, version, features, tiers, registry.now_utc(), reasons=reasons)
    return land_scores(settings, as_of_date, version, table)


def submit_train_sagemaker(
    settings: Settings, as_of_date: date | None = None, progress=lambda m: None, tune: TuneBudget | None = None
) -> str:
    """Submit the training job (backends/sagemaker_launcher): the same rows and the versioned
    [xgboost] parameters as a local run; returns the job name for `collect_train_sagemaker`."""
    from clv_jobs.backends import sagemaker_launcher as launcher

    sm = launcher.SageMakerSettings.from_env()
    spec = feature_spec_from_manifest(settings.dbt_target_path / "manifest.json")
    frame = read_training_examples(settings, as_of_date, progress)
    hyperparameters = dict(load_model_config()["xgboost"])
    if tune is not None:
        hyperparameters.update(tune_trials=tune.trials, tune_timeout_s=tune.timeout_s)
    return launcher.submit_training(frame, spec, hyperparameters, sm, progress)


def collect_train_sagemaker(settings: Settings, job_name: str, progress=lambda m: None, poll_s: float = 30.0):
    """Wait for a training job, then evaluate, gate and register its model as a local run would."""
    from clv_jobs.backends import sagemaker_launcher as launcher

    frame, spec, result = launcher.collect_training(job_name, progress, poll_s)
    return register_trained(
        settings, frame, spec, load_model_config(), result, extra_tags={"sagemaker_training_job": job_name}
    )


def submit_score_sagemaker(settings: Settings, as_of_date: date, progress=lambda m: None, reasons: str = "shap") -> str:
    """Submit the champion's batch scoring of `as_of_date` as a processing job; returns its name."""
    from clv_jobs.backends import sagemaker_launcher as launcher
    from clv_jobs.score import check_reasons

    check_reasons(reasons)
    sm = launcher.SageMakerSettings.from_env()
    version, model = require_champion()
    features = features_at(settings, as_of_date, progress)
    return launcher.submit_scoring(features, model, version, as_of_date, registry.now_utc(), reasons, sm, progress)


def collect_score_sagemaker(settings: Settings, job_name: str, progress=lambda m: None, poll_s: float = 30.0):
    """Wait for a scoring job and land its scores in the lake, as `run_score` does."""
    from clv_jobs.backends import sagemaker_launcher as launcher

    as_of_date, version, table = launcher.collect_scoring(job_name, progress, poll_s)
    return land_scores(settings, as_of_date, version, table)


def run_promote(settings: Settings, version: str, force: bool = False, reason: str | None = None) -> str:
    """Make `version` the champion (the previous champion stays registered); returns the old one.
    A version that failed its gates needs `force` and a `reason`, recorded as `forced_promotion`."""
    mlflow.set_tracking_uri(registry.tracking_uri())
    client = MlflowClient()
    try:
        target = client.get_model_version(registry.MODEL_NAME, str(version))
    except mlflow.exceptions.MlflowException:
        known = sorted(int(v.version) for v in client.search_model_versions(f"name='{registry.MODEL_NAME}'"))
        raise ValueError(
            f"model version {version} is not registered ({registry.MODEL_NAME} has versions {known})"
        ) from None
    history = _decision_history(settings)
    rejected = history[(history["model_version"] == str(version)) & (history["action"] == "rejected")]
    if force and not (reason or "").strip():
        raise ValueError("promote --force needs --reason (it is recorded in fct_model_decisions)")
    if len(rejected) and not force:
        why = rejected.iloc[-1].get("reasons", "")
        raise ValueError(
            f"model version {version} failed its gates ({why}); promote it anyway with --force --reason '...'"
        )
    previous = load_champion(client)
    client.set_registered_model_alias(registry.MODEL_NAME, "champion", str(version))
    was = previous[0] if previous else "none"
    action = "forced_promotion" if len(rejected) else "promoted"
    note = f"previous champion {was}" + (f"; {reason}" if reason else "")
    _record(settings, target.run_id, str(version), action, f"{action.replace('_', ' ')} by hand; {note}")
    return was


def run_rollback(settings: Settings) -> str:
    """Give the champion alias back to the champion before the current one (from the decision
    history in the lake); returns the version now champion."""
    mlflow.set_tracking_uri(registry.tracking_uri())
    client = MlflowClient()
    current = load_champion(client)
    if current is None:
        raise ValueError("no champion to roll back")
    history = _decision_history(settings)
    crowned = history[history["action"].isin(registry.CROWNING_ACTIONS)]
    earlier = [v for v in crowned["model_version"].tolist() if v != current[0]]
    if not earlier:
        raise ValueError(f"version {current[0]} is the only champion there has been: nothing to roll back to")
    version = earlier[-1]
    target = client.get_model_version(registry.MODEL_NAME, version)
    client.set_registered_model_alias(registry.MODEL_NAME, "champion", version)
    _record(settings, target.run_id, version, "rolled_back", f"rolled back from version {current[0]}")
    return version


def _decision_history(settings: Settings) -> pd.DataFrame:
    root = lake.LakeRoot(settings.lake_dir)
    if not root.exists("ml", "decisions"):
        return pd.DataFrame(columns=["model_version", "action", "decided_at"])
    return root.read("ml", "decisions").sort_values("decided_at", kind="stable")


def _record(settings: Settings, run_id: str, version: str, action: str, reason: str) -> None:
    run = MlflowClient().get_run(run_id)
    metrics = {
        "normalized_gini": run.data.metrics.get("xgboost__normalized_gini", float("nan")),
        "rmse": run.data.metrics.get("xgboost__rmse", float("nan")),
    }
    test_as_of = date.fromisoformat(run.data.tags.get("test_as_of_date", "1970-01-01"))
    _land_decision(settings.lake_dir, run_id, version, action, [reason], metrics, test_as_of)


@dataclass
class MonitorOutcome:
    as_of_date: date
    model_version: str
    drift: pd.DataFrame
    backtests: pd.DataFrame
    decision: monitor.RetrainDecision


def _scored_dates(lake_dir) -> list[date]:
    return [date.fromisoformat(v) for v in lake.LakeRoot(lake_dir).partition_values("ml", "scores")]


def _test_ginis(lake_dir) -> dict[str, float]:
    """Each model version's own normalized Gini on its test as-of date, from the landed
    evaluations (the latest evaluation of a version wins); read once per monitor run."""
    root = lake.LakeRoot(lake_dir)
    if not root.exists("ml", "evaluations"):
        return {}
    rows = root.read("ml", "evaluations")
    rows = rows[
        (rows["model_name"] == "xgboost") & (rows["slice_name"] == "all") & (rows["metric"] == "normalized_gini")
    ]
    latest = rows.drop_duplicates("model_version", keep="last")
    return dict(zip(latest["model_version"].astype(str), latest["value"].astype(float), strict=True))


def run_monitor(settings: Settings, as_of_date: date, progress=lambda m: None) -> MonitorOutcome:
    """Drift of the features and scores at `as_of_date` against the scoring model's training
    baseline, the realized backtest of every earlier scored date whose horizon has matured by
    `as_of_date`, and the retrain decision; each lands in its lake partition (as_of_date=D)."""
    config = load_model_config()
    limits = {**config["monitor"], "min_normalized_gini": config["gates"]["min_normalized_gini"]}
    root = lake.LakeRoot(settings.lake_dir)
    partition = ("ml", "scores", f"as_of_date={as_of_date}")
    if not root.exists(*partition):
        raise ValueError(
            f"no scores at {as_of_date} ({root.uri(*partition)}): run `clv-jobs score --as-of-date {as_of_date}` first"
        )
    scores = root.read(*partition)
    versions = scores["model_version"].unique().tolist()
    if len(versions) != 1:
        raise ValueError(f"{root.uri(*partition)}: expected one model version, found {versions}")
    version = str(versions[0])
    model = load_model_version(version)
    if model.drift_baseline is None:
        raise ValueError(
            f"model version {version} has no drift baseline (trained before monitoring existed): "
            f"retrain with `clv-jobs train` and score again"
        )
    features = features_at(settings, as_of_date, progress)
    current = features.merge(scores[["customer_id", *monitor.PREDICTIONS]], on="customer_id", how="left")
    drift = monitor.drift_table(model.drift_baseline, current, limits["psi_warn"], limits["psi_alert"])
    progress(
        f"drift of {len(drift)} columns against model version {version}'s training baseline: "
        + ", ".join(f"{n} {s}" for s, n in drift["status"].value_counts().items())
    )

    horizon = model.horizon_days
    matured = [
        d
        for d in _scored_dates(settings.lake_dir)
        if pd.Timestamp(d) + pd.Timedelta(days=horizon) <= pd.Timestamp(as_of_date)
    ]
    backtests = _realized_backtests(settings, matured, horizon, progress)
    decision = monitor.retrain_decision(drift, backtests, limits)

    monitored_at = registry.now_utc()
    drift_rows = drift.assign(model_version=version, monitored_at=monitored_at)
    root.write_partition(
        pa.Table.from_pandas(drift_rows, schema=DRIFT_SCHEMA, preserve_index=False),
        "ml",
        "drift",
        f"as_of_date={as_of_date}",
    )
    backtest_rows = backtests.assign(monitored_at=monitored_at)
    root.write_partition(
        pa.Table.from_pandas(backtest_rows, schema=BACKTEST_SCHEMA, preserve_index=False),
        "ml",
        "backtests",
        f"as_of_date={as_of_date}",
    )
    status = drift["status"]
    columns_warn, columns_alert = int((status == "warn").sum()), int((status == "alert").sum())
    run = pa.table(
        {
            "model_version": [version],
            "drift_status": [_worst(status)],
            "prediction_drift_status": [_worst(status[drift["feature_kind"] == "prediction"])],
            "columns_warn": [columns_warn],
            "columns_alert": [columns_alert],
            "backtests": [len(backtests)],
            "retrain": [decision.retrain],
            "reasons": ["; ".join(decision.reasons) or "no drift alert, no matured backtest below its limits"],
            "monitored_at": pa.array([monitored_at], pa.timestamp("us")),
        }
    )
    root.write_partition(run, "ml", "monitor_runs", f"as_of_date={as_of_date}")
    if alerts.put_monitor_metrics(decision.retrain, columns_alert, columns_warn):
        progress(f"CloudWatch {alerts.NAMESPACE}/RetrainRecommended = {int(decision.retrain)}")
    return MonitorOutcome(as_of_date, version, drift, backtests, decision)


def _worst(status: pd.Series) -> str:
    for level in ("alert", "warn"):
        if (status == level).any():
            return level
    return "ok"


def _realized_backtests(settings: Settings, dates: list[date], horizon: int, progress) -> pd.DataFrame:
    """Scores at each date against the revenue customers then realized (inner join; scored
    customers without a complete label are counted, not hidden)."""
    rows, test_ginis = [], {}
    if dates:
        test_ginis = _test_ginis(settings.lake_dir)
        progress(f"realized backtest of the scores at {', '.join(map(str, dates))} (horizon matured)")
        in_list = ", ".join(f"'{d}'" for d in dates)
        labels = read_mart(
            settings,
            "(select customer_id, as_of_date, revenue_next_horizon_usd from marts.fct_customer_labels"
            f" where is_label_complete and as_of_date in ({in_list})) as l",
        )
        labels["as_of_date"] = pd.to_datetime(labels["as_of_date"]).dt.date
    root = lake.LakeRoot(settings.lake_dir)
    for scored in dates:
        scores = root.read("ml", "scores", f"as_of_date={scored}")
        realized = labels[labels["as_of_date"] == scored]
        joined = scores.merge(realized, on="customer_id", how="inner")
        # Scores made before a late or changed landing of the window they cover were made on
        # a history that has since been restated: the comparison says so.
        window_end = pd.Timestamp(scored) + pd.Timedelta(days=horizon + 1)
        restated = landing.restated_since(settings.lake_dir, scores["scored_at"].min(), window_end)
        if restated:
            progress(
                f"warning: the scores at {scored} predate a restatement of the history they cover "
                f"({len(restated)} file(s), e.g. {restated[0]}): their backtest compares against restated labels"
            )
        for version, part in joined.groupby("model_version"):
            rows.append(
                {
                    "scored_as_of_date": scored,
                    "model_version": str(version),
                    "horizon_days": horizon,
                    **monitor.backtest_metrics(part["predicted_clv_12m"], part["revenue_next_horizon_usd"]),
                    "customers_unlabelled": int((scores["model_version"] == version).sum() - len(part)),
                    "test_normalized_gini": test_ginis.get(str(version), float("nan")),
                    "is_history_restated": bool(restated),
                }
            )
    columns = [f.name for f in BACKTEST_SCHEMA if f.name != "monitored_at"]
    return pd.DataFrame(rows, columns=columns)


DRIFT_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("feature_name", pa.string()),
        ("feature_kind", pa.string()),
        ("status", pa.string()),
        ("psi", pa.float64()),
        ("ks_statistic", pa.float64()),
        ("baseline_null_share", pa.float64()),
        ("current_null_share", pa.float64()),
        ("baseline_rows", pa.int64()),
        ("current_rows", pa.int64()),
        ("monitored_at", pa.timestamp("us")),
    ]
)

BACKTEST_SCHEMA = pa.schema(
    [
        ("scored_as_of_date", pa.date32()),
        ("model_version", pa.string()),
        ("horizon_days", pa.int64()),
        ("customers", pa.int64()),
        ("customers_unlabelled", pa.int64()),
        ("rmse", pa.float64()),
        ("mae", pa.float64()),
        ("normalized_gini", pa.float64()),
        ("top10_capture", pa.float64()),
        ("bias", pa.float64()),
        ("predicted_revenue_usd", pa.float64()),
        ("actual_revenue_usd", pa.float64()),
        ("test_normalized_gini", pa.float64()),
        ("is_history_restated", pa.bool_()),
        ("monitored_at", pa.timestamp("us")),
    ]
)
