"""The train stage: read the training mart, fit (here or on SageMaker), evaluate beside every
baseline, log to MLflow, register, apply the gates and land the decision."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd

from clv_jobs import evaluate, ml_contracts, registry, report, serving, warehouse
from clv_jobs.calibration import LEVEL_SOURCES
from clv_jobs.features import feature_spec_from_manifest
from clv_jobs.model import BTYD_FAMILY, load_model_config, order_examples
from clv_jobs.regressor import TuneBudget
from clv_jobs.settings import Settings
from clv_jobs.stages.evaluate import (
    PROXY_METRIC,
    evaluate_model,
    land_evaluations,
    log_evaluation,
    mlflow_test_metrics,
    test_date_proxy,
    write_evaluation,
)
from clv_jobs.stages.lifecycle import LEARNED_THROUGH_TAG, learned_through
from clv_jobs.train import train_models

__all__ = [
    "TrainOutcome",
    "run_train",
    "read_training_examples",
    "register_trained",
    "submit_train_sagemaker",
    "collect_train_sagemaker",
    "test_date_of",
]


@dataclass
class TrainOutcome:
    run_id: str
    model_version: str
    decision: str
    reasons: list[str]
    metrics: pd.DataFrame
    report_dir: Path
    family: str = "xgboost"
    family_note: str = ""


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


def test_date_of(frame: pd.DataFrame) -> date:
    test_dates = frame.loc[frame["split"] == "test", "as_of_date"].unique()
    if len(test_dates) != 1:
        raise ValueError(f"fct_clv_training_examples: expected one test as-of date, found {len(test_dates)}")
    return _date(test_dates[0])


def read_training_examples(settings: Settings, as_of_date: date | None, progress) -> pd.DataFrame:
    """The training mart, ordered, checked to have the requested test as-of date."""
    progress("reading fct_clv_training_examples (one query)")
    frame = order_examples(warehouse.read_mart(settings, "marts.fct_clv_training_examples"))
    test_as_of = test_date_of(frame)
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
    test_as_of = test_date_of(frame)
    horizon = int(frame["horizon_days"].iloc[0])
    test = result.test
    columns = list(result.prediction_columns)
    test, _ = report.add_oracle(test, columns, settings.lake_dir, test_as_of, horizon)

    gates = config["gates"]
    client = registry.client()
    mlflow.set_experiment("clv")
    champion = registry.load_champion(client)
    champion_metrics = None
    # A champion that learned from this test date (refit on it) would be judged in-sample: the
    # champion gate only compares on a date the champion never saw.
    if champion is not None and (learned_through(champion[0], client) or test_as_of) < test_as_of:
        champion_metrics = evaluate.regression_metrics(test[label], champion[1].predict_revenue(test))

    def judge(model):
        evaluation = evaluate_model(model, test, label, columns, gates)
        by_model = {row["model"]: row for row in evaluation.metrics.to_dict("records")}
        return (
            evaluation,
            by_model,
            registry.apply_gates(
                by_model,
                evaluation.fairness["ratio"],
                gates,
                champion_metrics,
                family=model.family,
                fairness_p_value=evaluation.fairness["p_value"],
            ),
        )

    evaluation, by_model, gate = judge(result.model)
    if not gate.passed and result.fallback is not None:
        # One declared fallback, not a search over the test: the BTYD family needs no fit, so a
        # small shop whose XGBoost overfits still gets a champion when BTYD passes every gate.
        winner_reasons, winner_predictions = gate.reasons, test["pred_xgboost"].to_numpy()
        test = test.assign(pred_xgboost=result.fallback.predict_revenue(test))
        fallback = judge(result.fallback)
        if fallback[2].passed:
            evaluation, by_model = fallback[0], fallback[1]
            note = f"{result.selected} failed the gates ({'; '.join(winner_reasons)}): BG/NBD + Gamma-Gamma fallback"
            gate = registry.GateResult(True, [note])
            result = dataclasses.replace(result, model=result.fallback, selected=f"{BTYD_FAMILY} (fallback)", test=test)
        else:
            test = test.assign(pred_xgboost=winner_predictions)
            gate.reasons.append(f"the BG/NBD + Gamma-Gamma fallback failed too: {'; '.join(fallback[2].reasons)}")
    proxy = test_date_proxy(settings, test, test_as_of)
    metrics, slices, fairness, importance = (
        evaluation.metrics,
        evaluation.slices,
        evaluation.fairness,
        evaluation.importance,
    )

    split_dates = frame.groupby("split")["as_of_date"].agg(["min", "max"])
    as_of = {
        "train_first": str(_date(split_dates.loc["train", "min"])),
        "train_last": str(_date(split_dates.loc["train", "max"])),
        "valid": str(_date(split_dates.loc["valid", "min"])),
        "test": str(test_as_of),
        "horizon_days": horizon,
        "label_days": result.model.label_days,
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
                LEARNED_THROUGH_TAG: str((result.model.drift_baseline or {}).get("as_of_date") or test_as_of),
                **(extra_tags or {}),
            }
        )
        mlflow.log_params(
            {
                "objective": result.model.objective,
                "family": result.model.family,
                "selected_on_valid": result.selected,
                "blend_weight": result.model.blend_weight,
                "calibration": result.model.calibration,
                "calibration_level": result.level,
                "season_by_month": _season_param(result.model),
                "support_limits": _support_param(result.model),
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
        mlflow.log_dict({"features": spec.features, "categorical": spec.categorical}, "features.json")
        logged = {
            f"valid_{metric}__{objective.replace(':', '_')}": value
            for objective, values in result.validation.items()
            for metric, value in values.items()
        }
        if result.tuning is not None:
            logged["tuning_trials"] = result.tuning["trials"]
        mlflow.log_metrics({**logged, **mlflow_test_metrics(evaluation), f"xgboost__{PROXY_METRIC}": proxy})
        files = write_evaluation(evaluation, test, label, columns, tmp)
        log_evaluation(files)
        model_dir = result.model.save(tmp / "clv_model")
        info = serving.log_servable_model(result.model, model_dir, test)
        version = str(mlflow.register_model(info.model_uri, registry.MODEL_NAME).version)
        decision = _decide(client, version, gate, champion)
        card = report.model_card(
            model_version=version,
            run_id=run.info.run_id,
            as_of=as_of,
            rows=rows,
            objective=_family_note(result),
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

    land_evaluations(settings.lake_dir, run.info.run_id, version, test_as_of, evaluation, {PROXY_METRIC: proxy})
    ml_contracts.ensure_tables(settings.lake_dir)
    registry.land_decision(
        settings.lake_dir, run.info.run_id, version, decision, gate.reasons, by_model["xgboost"], test_as_of
    )
    return TrainOutcome(
        run.info.run_id, version, decision, gate.reasons, metrics, report_dir, result.model.family, _family_note(result)
    )


def _season_param(model) -> str:
    """The seasonal index (Jan..Dec) as one MLflow parameter, "none" without one."""
    return " ".join(f"{v:.3f}" for v in model.season_by_month) if model.season_by_month else "none"


def _support_param(model) -> str:
    """The support limits (ADR 0021) as one MLflow parameter, "none" without them."""
    limits = model.support_limits or {}
    return " ".join(f"{name}={limit:.2f}" for name, limit in limits.items()) or "none"


def _family_note(result) -> str:
    """The winning family in words, for the model card and the train summary."""
    model = result.model
    what = {"xgboost": f"XGBoost `{model.objective}`", "blend": f"blend of XGBoost `{model.objective}`"}
    text = what.get(model.family, "BG/NBD + Gamma-Gamma")
    if model.family == "blend":
        text += f" (weight {model.blend_weight:.1f}) with BG/NBD + Gamma-Gamma"
    text += f", calibrated x{model.calibration:.3f} to {LEVEL_SOURCES[result.level]}"
    if model.season_by_month:
        low, high = min(model.season_by_month), max(model.season_by_month)
        text += f", by as-of month x{low:.2f}..x{high:.2f} of it (seasonal index)"
    if model.support_limits:
        limits = ", ".join(f"{name} > {limit:,.2f}" for name, limit in model.support_limits.items())
        text += f"; BG/NBD + Gamma-Gamma alone beyond the trees' support ({limits})"
    return f"{text} (`{result.selected}`)"


def _decide(client, version: str, gate: registry.GateResult, champion) -> str:
    if not gate.passed:
        return "rejected"
    registry.set_alias(registry.CHALLENGER, version, client)
    if champion is None:
        registry.set_alias(registry.CHAMPION, version, client)
        return "champion"
    return "challenger"


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
