"""`clv-jobs train` end to end on the DuckDB build: MLflow run with lineage tags, registered
version, gate decision landed in the lake, model card; a model that loses is not promoted."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from clv_jobs import ml_contracts, registry, serving
from clv_jobs.stages import evaluate as evaluate_stage
from clv_jobs.stages import lifecycle as lifecycle_stage
from clv_jobs.stages import monitor as monitor_stage
from clv_jobs.stages import score as score_stage
from clv_jobs.stages import shadow as shadow_stage
from clv_jobs.stages import train as train_stage
from conftest import LOOSE_GATES, job_settings, model_config


@pytest.fixture()
def settings(tmp_path, duckdb_build, synthetic_lake, monkeypatch):
    path, result = duckdb_build
    assert result.returncode == 0, result.output[-3000:]
    lake = tmp_path / "lake"
    shutil.copytree(synthetic_lake, lake)
    monkeypatch.setenv("CLV_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is relative to the working directory
    return job_settings(lake, tmp_path / "reports", path.parent / "target", path)


def test_train_logs_registers_and_decides(settings, monkeypatch):
    # Without the refit on the test date, the registered model is the evaluated one, so
    # `evaluate` on the same date must reproduce the training run's table exactly.
    model_config(monkeypatch, settings.reports_dir.parent, "[training]\nrefit_with_test_date = false\n")
    outcome = train_stage.run_train(settings)
    models = set(outcome.metrics["model"])
    assert {"xgboost", "company_average", "heuristic", "linear_rfm", "bgnbd_gamma_gamma", "oracle"} <= models
    run = MlflowClient().get_run(outcome.run_id)
    for tag in ("git_commit", "dbt_manifest_hash", "training_data_fingerprint", "test_as_of_date"):
        assert run.data.tags[tag]
    assert run.data.metrics["xgboost__normalized_gini"] == pytest.approx(
        outcome.metrics.set_index("model").loc["xgboost", "normalized_gini"]
    )
    assert outcome.model_version == "1"
    client = MlflowClient()
    if outcome.decision == "champion":
        assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "1"
    else:
        assert outcome.decision == "rejected" and outcome.reasons
    decisions = pd.read_parquet(settings.lake_dir / "ml" / "decisions")
    assert decisions["action"].tolist() == [outcome.decision]
    evaluations = pd.read_parquet(settings.lake_dir / "ml" / "evaluations")
    assert set(evaluations["model_name"]) >= models
    assert {"all", "country", "acquisition_channel"} <= set(evaluations["slice_name"])
    card = (outcome.report_dir / "model_card.md").read_text()
    assert "## Intended use" in card and "bgnbd_gamma_gamma" in card
    assert (outcome.report_dir / "lorenz.png").stat().st_size > 0

    served = _predict_outside_the_project(outcome.model_version, settings.reports_dir.parent)
    assert list(served.columns) == serving.OUTPUT_COLUMNS and len(served) == 5
    assert served["churn_probability"].between(0, 1).all() and (served["predicted_clv"] >= 0).all()
    reasons = set(registry.load_model_version(outcome.model_version).reason_names)
    assert {*served["reason_1"], *served["reason_2"], *served["reason_3"]} <= {r.split("=")[0] for r in reasons}

    # `clv-jobs evaluate` of the same version on the same marts reproduces the training run's
    # test table (the BTYD fits of the test date see the same rows: equal up to summation order).
    evaluated = evaluate_stage.run_evaluate(settings, outcome.model_version)
    pd.testing.assert_frame_equal(evaluated.metrics, outcome.metrics, rtol=1e-9, atol=1e-9)
    assert MlflowClient().get_run(evaluated.run_id).data.tags["job"] == "evaluate"
    landed = pd.read_parquet(settings.lake_dir / "ml" / "evaluations")
    assert landed.groupby("run_id").size().to_dict() == {
        outcome.run_id: len(evaluations),
        evaluated.run_id: len(evaluations),
    }


def _predict_outside_the_project(version: str, work) -> pd.DataFrame:
    """Load the registered model with `mlflow.pyfunc` in a Python that cannot import clv_jobs
    (no .pth processing, so not the editable install) and predict its own input example."""
    import json
    import subprocess
    import sys
    import sysconfig

    uri = mlflow.artifacts.download_artifacts(f"models:/{registry.MODEL_NAME}/{version}", dst_path=str(work / "m"))
    requirements = (Path(uri) / "requirements.txt").read_text().split()
    assert requirements and all("==" in line for line in requirements), requirements
    assert "signature" in (Path(uri) / "MLmodel").read_text()
    script = (
        "import sys, importlib.util; sys.path.insert(0, sys.argv[1]);"
        "assert importlib.util.find_spec('clv_jobs') is None, 'clv_jobs importable';"
        "import mlflow, pandas as pd;"
        "model = mlflow.pyfunc.load_model(sys.argv[2]);"
        "example = pd.read_json(sys.argv[2] + '/input_example.json', orient='split', dtype=False);"
        "print(model.predict(example).to_json(orient='records'))"
    )
    site = sysconfig.get_paths()["purelib"]
    proc = subprocess.run(
        [sys.executable, "-S", "-c", script, site, uri], cwd=work, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return pd.DataFrame(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_a_model_that_loses_is_not_promoted(settings, monkeypatch):
    model_config(monkeypatch, settings.reports_dir.parent, "[gates]\nmin_normalized_gini = 0.999\n")  # none reaches it
    outcome = train_stage.run_train(settings)
    assert outcome.decision == "rejected"
    assert any("normalized Gini" in reason for reason in outcome.reasons)
    mlflow.set_tracking_uri(registry.tracking_uri())
    with pytest.raises(mlflow.exceptions.MlflowException):
        MlflowClient().get_model_version_by_alias(registry.MODEL_NAME, "champion")
    assert registry.load_champion() is None

    with pytest.raises(ValueError, match=r"versions \[1\] are registered and none passed the gates"):
        registry.require_champion()  # what `clv-jobs score` says then

    # Promoting it by hand is refused, naming the gate; --force needs a reason and is recorded.
    with pytest.raises(
        ValueError, match=r"model version 1 cannot be promoted: it failed its gates \(normalized Gini .*0.999"
    ):
        registry.promote(settings.lake_dir, "1")
    with pytest.raises(ValueError, match="--force needs --reason"):
        registry.promote(settings.lake_dir, "1", force=True)
    assert registry.promote(settings.lake_dir, "1", force=True, reason="gate misconfigured, ticket 7") == "none"
    history = pd.read_parquet(settings.lake_dir / "ml" / "decisions").sort_values("decided_at")
    assert history["action"].tolist() == ["rejected", "forced_promotion"]
    assert "ticket 7" in history["reasons"].iloc[-1]
    assert registry.load_champion()[0] == "1"


def test_score_without_a_champion_fails_clearly(settings):
    with pytest.raises(ValueError, match="no champion in the registry"):
        score_stage.run_score(settings, pd.Timestamp("2024-12-31").date())


def test_score_without_a_date_scores_the_newest_as_of_date(settings, monkeypatch):
    from typer.testing import CliRunner

    from clv_jobs.cli import app

    assert score_stage.newest_feature_date(settings) == pd.Timestamp("2024-12-31").date()
    env = {"CLV_LAKE_DIR": str(settings.lake_dir), "CLV_DUCKDB_PATH": str(settings.duckdb_path), "CLV_DBT_TARGET": "ci"}
    result = CliRunner().invoke(app, ["score"], env=env)
    # The date is the newest one; with no champion registered the score itself then stops.
    assert "scoring the newest as-of date in fct_customer_features, 2024-12-31" in result.output
    assert result.exit_code != 0 and "no champion in the registry" in str(result.exception or result.output)


def test_train_score_monitor_publish_is_idempotent(settings, monkeypatch, moto_server):
    """Champion -> score the test as-of date and the last one -> monitor the last one (drift, and
    the realized backtest of the test date's scores; its verdict put in CloudWatch, here moto's)
    -> dbt publishes; twice, identical tables."""
    import boto3
    import duckdb

    from conftest import run_dbt

    # The registered model is the evaluated one (no refit on the test date), so the test date's
    # backtest must reproduce the training run's test metrics.
    model_config(monkeypatch, settings.reports_dir.parent, LOOSE_GATES + "[training]\nrefit_with_test_date = false\n")
    trained = train_stage.run_train(settings)
    assert trained.decision == "champion"
    aws = {"AWS_ENDPOINT_URL": moto_server.url, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing"}
    for name, value in {**aws, "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    # One topic per alert tier (as Terraform's alerts module creates), each drained by a queue.
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    queues = {}
    for tier in ("high", "medium", "low"):
        topic = sns.create_topic(Name=f"clv-test-alerts-{tier}")["TopicArn"]
        queue = sqs.create_queue(QueueName=f"clv-test-alerts-{tier}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        queues[tier] = (topic, queue)
        monkeypatch.setenv(f"CLV_ALERT_TOPIC_ARN_{tier.upper()}", topic)

    test_as_of, as_of = pd.Timestamp("2023-12-31").date(), pd.Timestamp("2024-12-31").date()
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(settings.lake_dir), "CLV_DUCKDB_PATH": str(settings.duckdb_path)}
    queries = {
        "scores": "select * exclude (scored_at) from marts.fct_clv_scores order by customer_id, as_of_date",
        "drift": "select * exclude (monitored_at) from marts.fct_feature_drift order by drift_reference, feature_name",
        "backtest": "select * exclude (monitored_at) from marts.fct_model_backtest",
        "runs": "select * exclude (monitored_at) from marts.fct_monitor_runs",
    }
    snapshots = []
    for _ in range(2):
        score_stage.run_score(settings, test_as_of)
        outcome = score_stage.run_score(settings, as_of)
        monitored = monitor_stage.run_monitor(settings, as_of)
        result = run_dbt(["build", "--selector", "ml_marts"], env, settings.reports_dir.parent / "dbt_ml")
        assert result.returncode == 0, result.output[-4000:]
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            snapshots.append({name: con.sql(query).df() for name, query in queries.items()})
            features = con.execute(
                f"select count(*) from marts.fct_customer_features where as_of_date = '{as_of}'"
            ).fetchall()[0][0]
    for name in queries:
        pd.testing.assert_frame_equal(snapshots[0][name], snapshots[1][name])
    scores = snapshots[0]["scores"]
    assert outcome.rows == features == (scores["as_of_date"] == pd.Timestamp(as_of)).sum()
    assert (scores["predicted_clv"] >= 0).all() and scores["churn_probability"].between(0, 1).all()
    assert set(scores["value_tier"]) == {"platinum", "gold", "silver", "bronze"}
    assert scores["reason_1"].notna().all()

    # The test date's scores, backtested once its horizon matured, reproduce the training run's
    # test metrics (up to summation order): scoring, which reads its rows unordered, and evaluation
    # agree on the same customers, labels and predictions.
    backtest = snapshots[0]["backtest"]
    assert backtest["scored_as_of_date"].tolist() == [pd.Timestamp(test_as_of)]
    test_metrics = trained.metrics.set_index("model").loc["xgboost"]
    row = backtest.iloc[0]
    assert row["customers_unlabelled"] == 0
    assert row["rmse"] == pytest.approx(test_metrics["rmse"], rel=1e-9)
    assert row["normalized_gini"] == pytest.approx(test_metrics["normalized_gini"], rel=1e-9)
    assert row["test_normalized_gini"] == pytest.approx(test_metrics["normalized_gini"], rel=1e-9)

    drift = snapshots[0]["drift"]
    assert {"predicted_clv", "churn_probability", "frequency", "country"} <= set(drift["feature_name"])
    assert (drift["current_rows"] == features).all()
    runs = snapshots[0]["runs"]
    assert runs["is_retrain_recommended"].tolist() == [monitored.decision.retrain]
    training = drift[drift["drift_reference"] == "training"]
    assert runs["columns_alert"].tolist() == [(training["drift_status"] == "alert").sum()]
    # Month over month: the previous scored date is the second reference.
    previous = drift[drift["drift_reference"] == "previous_scoring"]
    assert set(previous["reference_as_of_date"]) == {pd.Timestamp(test_as_of)}
    assert runs["proxy_status"].tolist() == [
        monitored.proxy.pipe(lambda p: "alert" if p["is_triggered"].any() else "ok")
    ]

    # What `clv-jobs summary` prints from the published marts.
    from clv_jobs import warehouse

    summary = warehouse.ml_summary(settings)
    assert summary["champion"] == trained.model_version
    assert sum(row["customers"] for row in summary["tiers"]) == features
    assert [row["is_retrain_recommended"] for row in summary["monitoring"]] == [monitored.decision.retrain]
    assert [row["scored_as_of_date"] for row in summary["backtests"]] == [test_as_of]
    assert {row["model_name"] for row in summary["evaluations"]} >= {"xgboost", "bgnbd_gamma_gamma"}

    # Each alert went to its tier's topic and is a row of fct_alerts naming that route.
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        published = con.execute("select tier, rule_name, route from marts.fct_alerts").df()
    assert len(published) == 2 * len(monitored.alerts) and len(monitored.alerts) > 0
    for tier, (topic, queue) in queues.items():
        routed = published[published["tier"] == tier]
        assert (routed["route"] == topic).all()
        received = 0
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            received += len(batch)
            sqs.delete_message_batch(
                QueueUrl=queue, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch]
            )
        assert received == len(routed), tier

    # What the Terraform drift alarm watches: one put per monitor run, no dimensions.
    cloudwatch = boto3.client("cloudwatch")
    metrics = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="clv-warehouse")["Metrics"]}
    assert {"RetrainRecommended", "DriftColumnsAlert", "DriftColumnsWarn"} <= metrics
    stats = cloudwatch.get_metric_statistics(
        Namespace="clv-warehouse",
        MetricName="RetrainRecommended",
        StartTime=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
        EndTime=pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1),
        Period=7200,
        Statistics=["Maximum", "SampleCount"],
    )["Datapoints"]
    assert [(d["Maximum"], d["SampleCount"]) for d in stats] == [(float(monitored.decision.retrain), 2.0)]


def test_monitor_needs_scores_first(settings):
    with pytest.raises(ValueError, match="run `clv-jobs score --as-of-date 2024-12-31` first"):
        monitor_stage.run_monitor(settings, pd.Timestamp("2024-12-31").date())


def test_promote_and_rollback_move_the_champion_and_are_recorded(settings, monkeypatch):
    model_config(monkeypatch, settings.reports_dir.parent)
    assert train_stage.run_train(settings).decision == "champion"
    assert train_stage.run_train(settings).decision == "challenger"  # same data: within the champion tolerance
    client = MlflowClient()
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "1"

    # A challenger needs a passed shadow run, then an approval given after it.
    with pytest.raises(ValueError, match="cannot be promoted: it has no shadow run"):
        registry.promote(settings.lake_dir, "2")
    with pytest.raises(ValueError, match="has no shadow run"):
        lifecycle_stage.run_approve(settings, "2", by="ana", reason="looks fine")
    shadowed = shadow_stage.run_shadow(settings, "2", pd.Timestamp("2024-12-31").date())
    assert shadowed.passed, shadowed.failed
    assert shadowed.figures["spearman"] == pytest.approx(1.0)  # same data, same seed: the same model
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "ready-for-canary").version) == "2"
    assert ml_contracts.partition_values(settings.lake_dir, "scores") == []  # shadow scores are never published
    with pytest.raises(ValueError, match="not approved since its shadow run"):
        registry.promote(settings.lake_dir, "2")
    lifecycle_stage.run_approve(settings, "2", by="ana", reason="shadow within limits")
    assert registry.promote(settings.lake_dir, "2") == "1"
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "2"
    assert registry.rollback(settings.lake_dir) == "1"
    assert str(client.get_model_version_by_alias(registry.MODEL_NAME, "champion").version) == "1"

    history = pd.read_parquet(settings.lake_dir / "ml" / "decisions").sort_values("decided_at")
    assert history["action"].tolist() == [
        "champion",
        "challenger",
        "shadow_passed",
        "approved",
        "promoted",
        "rolled_back",
    ]
    assert history["model_version"].tolist() == ["1", "2", "2", "2", "2", "1"]
    assert history.loc[history["action"] == "approved", "decided_by"].tolist() == ["ana"]
    with pytest.raises(ValueError, match=r"model version 99 is not registered \(clv-xgboost has versions \[1, 2\]\)"):
        registry.promote(settings.lake_dir, "99")
