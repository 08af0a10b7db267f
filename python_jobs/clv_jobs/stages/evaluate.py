"""The evaluate stage: a model's metrics beside every baseline on the test as-of date, its
slices, fairness ratio and SHAP importance; logged to MLflow, written as a report and landed in
`ml/evaluations/`. Training calls the same helpers on its candidate."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import mlflow
import pandas as pd

from clv_jobs import evaluate, lake, ml_contracts, monitor, registry, report, warehouse
from clv_jobs.baselines import Baselines
from clv_jobs.model import ClvModel, load_model_config, order_examples, training_label
from clv_jobs.settings import Settings

__all__ = [
    "Evaluation",
    "EvaluateOutcome",
    "evaluate_model",
    "write_evaluation",
    "mlflow_test_metrics",
    "log_evaluation",
    "land_evaluations",
    "run_evaluate",
    "test_date_proxy",
    "landed_metric",
    "PROXY_METRIC",
]

# The evaluation metric holding a model's own test-date 30-day proxy (the monitor's reference).
PROXY_METRIC = "proxy_spearman_30d"

SLICES = ["country", "acquisition_channel"]
SHAP_SAMPLE_ROWS = 5_000


@dataclass
class Evaluation:
    metrics: pd.DataFrame  # one row per model
    slices: pd.DataFrame  # the candidate's metrics per slice value
    fairness: dict
    importance: pd.Series  # mean |SHAP| per feature
    deciles: pd.DataFrame  # the candidate's calibration: mean predicted vs realized per decile


def evaluate_model(model: ClvModel, test: pd.DataFrame, label: str, columns: list[str], gates: dict) -> Evaluation:
    """Every model's metrics on the test rows (pred_<name> columns), the candidate's slices,
    fairness ratio and SHAP importance."""
    return Evaluation(
        metrics=report.metrics_table(test, label, columns),
        slices=report.slice_table(test, label, "pred_xgboost", SLICES),
        fairness={
            "slice": gates["fairness_slice"],
            "threshold": gates["min_disparate_impact_ratio"],
            "ratio": evaluate.disparate_impact_ratio(test["pred_xgboost"], test[gates["fairness_slice"]]),
            "p_value": evaluate.disparate_impact_p_value(test["pred_xgboost"], test[gates["fairness_slice"]]),
            "alpha": gates.get("fairness_alpha", 1.0),
        },
        importance=report.shap_importance(
            # TreeSHAP costs trees x leaves x depth^2 per row; a global mean |SHAP| from a
            # seeded sample of rows is as informative and bounded in time.
            model.contributions(test.sample(min(len(test), SHAP_SAMPLE_ROWS), random_state=0)),
            model.reason_names,
        ),
        deciles=evaluate.decile_table(test[label], test["pred_xgboost"]),
    )


def write_evaluation(evaluation: Evaluation, test, label, columns, out_dir: Path) -> list[Path]:
    """Plots and tables of an evaluation into `out_dir`; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = report.write_plots(test, label, columns, evaluation.importance, out_dir / "plots")
    evaluation.metrics.to_csv(out_dir / "metrics.csv", index=False)
    evaluation.slices.to_csv(out_dir / "slices.csv", index=False)
    evaluation.deciles.to_csv(out_dir / "deciles.csv", index=False)
    return [*files, out_dir / "metrics.csv", out_dir / "slices.csv", out_dir / "deciles.csv"]


def mlflow_test_metrics(evaluation: Evaluation) -> dict[str, float]:
    """Every model's test metrics as `<model>__<metric>`, and the candidate's fairness ratio: for
    one `mlflow.log_metrics` batch (a call per metric is a tracking-store transaction each)."""
    metrics = {
        f"{row['model']}__{key}": value
        for row in evaluation.metrics.to_dict("records")
        for key, value in row.items()
        if key != "model"
    }
    metrics["xgboost__disparate_impact_ratio"] = evaluation.fairness["ratio"]
    metrics["xgboost__disparate_impact_p_value"] = evaluation.fairness["p_value"]
    return metrics


def log_evaluation(files: list[Path]) -> None:
    for path in files:
        mlflow.log_artifact(str(path), "plots" if path.suffix == ".png" else "evaluation")


def land_evaluations(lake_dir, run_id, version, test_as_of, evaluation: Evaluation, extra=None) -> None:
    """Every metric of an evaluation as rows of ml/evaluations: each model's metrics (slice
    "all"), the candidate's per slice, its fairness ratio, its calibration per decile (slice
    "decile") and its global SHAP importance (slice "feature"); `extra`: more xgboost metrics."""
    rows = []
    for record in evaluation.metrics.to_dict("records"):
        for metric, value in record.items():
            if metric != "model":
                rows.append(("all", "all", record["model"], metric, float(value)))
    for record in evaluation.slices.to_dict("records"):
        for metric in ("rmse", "mae", "normalized_gini", "spearman", "top10_capture", "bias", "mean_prediction"):
            rows.append((record["slice_name"], str(record["slice_value"]), "xgboost", metric, float(record[metric])))
    fairness = evaluation.fairness
    rows.append((fairness["slice"], "all", "xgboost", "disparate_impact_ratio", float(fairness["ratio"])))
    for record in evaluation.deciles.to_dict("records"):
        for metric in ("customers", "mean_predicted", "mean_actual", "share_of_revenue"):
            rows.append(("decile", str(int(record["decile"])), "xgboost", metric, float(record[metric])))
    for feature, value in evaluation.importance.items():
        rows.append(("feature", str(feature), "xgboost", "mean_abs_shap", float(value)))
    for metric, value in (extra or {}).items():
        rows.append(("all", "all", "xgboost", metric, float(value)))
    columns = ["slice_name", "slice_value", "model_name", "metric", "value"]
    frame = pd.DataFrame(rows, columns=columns).assign(model_version=str(version), test_as_of_date=test_as_of)
    ml_contracts.write(lake_dir, "evaluations", run_id, frame)


def landed_metric(lake_dir, metric: str) -> dict[str, float]:
    """Each model version's xgboost `metric` (slice "all") from the landed evaluations, the one
    of its newest test as-of date winning; {} before any evaluation landed."""
    root = lake.LakeRoot(lake_dir)
    if not root.exists("ml", "evaluations"):
        return {}
    rows = root.read("ml", "evaluations")
    rows = rows[(rows["model_name"] == "xgboost") & (rows["slice_name"] == "all") & (rows["metric"] == metric)]
    latest = rows.sort_values("test_as_of_date", kind="stable").drop_duplicates("model_version", keep="last")
    return dict(zip(latest["model_version"].astype(str), latest["value"].astype(float), strict=True))


def test_date_proxy(settings: Settings, test: pd.DataFrame, test_as_of: date) -> float:
    """The 30-day proxy (Spearman of the held-out prediction with the next 30 days' spend) on the
    test as-of date: the reference the monitor compares each scored date's proxy with."""
    realized = warehouse.read_mart(
        settings,
        "(select customer_id, revenue_next_30d_usd from marts.fct_customer_labels"
        f" where as_of_date = '{test_as_of}') as l",
    )
    joined = test[["customer_id", "pred_xgboost"]].merge(realized, on="customer_id", how="inner")
    return monitor.proxy_metrics(joined["pred_xgboost"], joined["revenue_next_30d_usd"])["spearman"]


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
        champion = registry.load_champion()
        if champion is None:
            raise ValueError(f"no champion in the registry ({registry.tracking_uri()}): give --model-version")
        version, model = champion
    else:
        model = registry.load_model_version(version)
    progress("reading fct_clv_training_examples (one query)")
    frame = order_examples(warehouse.read_mart(settings, "marts.fct_clv_training_examples"))
    test = frame[frame["split"] == "test"].copy()
    if test.empty:
        raise ValueError("fct_clv_training_examples has no 'test' rows: nothing to evaluate on")
    test_as_of = pd.Timestamp(test["as_of_date"].iloc[0]).date()
    if model.horizon_days != int(test["horizon_days"].iloc[0]):
        raise ValueError(
            f"model version {version} predicts {model.horizon_days} days ahead but the marts' labels are "
            f"{int(test['horizon_days'].iloc[0])} days"
        )
    progress(f"predicting {len(test):,} test rows at {test_as_of} with model version {version}; fitting baselines")
    # The BTYD columns over the model's label window, with the carry the baselines apply too.
    test = model.with_btyd(test)
    test["pred_xgboost"] = model.predict_revenue(test)
    columns = ["pred_xgboost"]
    fit_label, _ = training_label(frame, config, model.horizon_days)
    baselines = Baselines.fit(frame[frame["split"].isin(["train", "valid"])], fit_label, active, model.horizon_days)
    for name, values in baselines.predict(test).items():
        test[f"pred_{name}"] = values
        columns.append(f"pred_{name}")
    test, _ = report.add_oracle(test, columns, settings.lake_dir, test_as_of, model.horizon_days)
    evaluation = evaluate_model(model, test, label, columns, config["gates"])

    registry.client()
    mlflow.set_experiment("clv")
    report_dir = settings.reports_dir / f"evaluation-{version}-{test_as_of}"
    shutil.rmtree(report_dir, ignore_errors=True)
    with mlflow.start_run(run_name=f"evaluate-v{version}-{test_as_of}") as run:
        mlflow.set_tags({"job": "evaluate", "model_version": version, "test_as_of_date": str(test_as_of)})
        mlflow.log_metrics(mlflow_test_metrics(evaluation))
        log_evaluation(write_evaluation(evaluation, test, label, columns, report_dir))
    land_evaluations(
        settings.lake_dir,
        run.info.run_id,
        version,
        test_as_of,
        evaluation,
        {PROXY_METRIC: test_date_proxy(settings, test, test_as_of)},
    )
    return EvaluateOutcome(run.info.run_id, version, test_as_of, evaluation.metrics, evaluation.fairness, report_dir)
