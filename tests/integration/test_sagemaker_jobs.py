"""`clv-jobs train/score --backend sagemaker` end to end against local stand-ins.

The sagemaker SDK builds and submits the requests to moto's server on 127.0.0.1 (SageMaker, S3
and IAM APIs); the tests read back what moto received on the wire and assert it. SageMaker's own
part, running the image, is played here by running the image's entry points as local processes
under the container contract on the staged S3 inputs, and putting on S3 what SageMaker would
(model.tar.gz and output.tar.gz; the processing output prefix). The launcher then finishes the job
(`--attach`) exactly as it would after a real one: register with the gates, land the scores.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path

import boto3
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from clv_jobs import registry, s3, warehouse
from clv_jobs.cli import app
from clv_jobs.lake import LakeRoot
from clv_jobs.model import load_model_config
from clv_jobs.settings import load_settings
from clv_jobs.stages import monitor as monitor_stage
from clv_jobs.stages import score as score_stage
from clv_jobs.stages import train as train_stage
from conftest import BIN, PROJECT_DIR

ROLE = "arn:aws:iam::123456789012:role/clv-prod-sagemaker"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clv-warehouse:1.0"


@pytest.fixture()
def aws(moto_server, duckdb_build, synthetic_lake, tmp_path, monkeypatch):
    path, result = duckdb_build
    assert result.returncode == 0, result.output[-3000:]
    bucket = f"clv-lake-{time.time_ns()}"
    sdk_config = tmp_path / "sagemaker.yaml"
    sdk_config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": moto_server.url,  # boto3 sends every service to the stand-in
        # The SDK checks the role with iam:SimulatePrincipalPolicy, which moto does not implement.
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(sdk_config),
        "CLV_SAGEMAKER_ROLE_ARN": ROLE,
        "CLV_SAGEMAKER_IMAGE_URI": IMAGE,
        "CLV_SAGEMAKER_S3_URI": f"s3://{bucket}/sagemaker",
        "CLV_SAGEMAKER_INSTANCE_TYPE": "ml.m5.2xlarge",
        "CLV_DBT_TARGET": "ci",
        "CLV_DUCKDB_PATH": str(path),
        "CLV_DBT_PROJECT_DIR": str(PROJECT_DIR),
        "CLV_DBT_TARGET_PATH": str(path.parent / "target"),
        "CLV_LAKE_DIR": f"s3://{bucket}/lake",  # production's layout: the ML landing goes to S3
        "CLV_REPORTS_DIR": str(tmp_path / "reports"),
        "CLV_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CLV_S3_ENDPOINT_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root is relative to the working directory
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for path in sorted((synthetic_lake / "oracle").rglob("*.parquet")):  # the generator's oracle, on S3
        client.upload_file(str(path), bucket, f"lake/{path.relative_to(synthetic_lake)}")
    return {**env, "bucket": bucket}


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _download_prefix(uri: str, directory: Path, shard: tuple[int, int] | None = None) -> None:
    """The objects under `uri` into `directory`; with `shard` (i, n), every n-th from the i-th."""
    client = boto3.client("s3")
    bucket, prefix = s3.split_uri(uri)
    directory.mkdir(parents=True, exist_ok=True)
    keys = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    if shard is not None:
        keys = keys[shard[0] :: shard[1]]
    for key in keys:
        client.download_file(bucket, key, str(directory / key[len(prefix) :].lstrip("/")))


def _put_tar(directory: Path, uri: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.iterdir()):
            archive.add(path, arcname=path.name)
    bucket, key = s3.split_uri(uri)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def _run(entry: str, env: dict[str, str]) -> None:
    run = subprocess.run([str(BIN / entry)], env={**os.environ, **env}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]


def play_training_job(job: dict, work: Path) -> None:
    """What SageMaker does with a training job: channel in, entry point, archives out."""
    channel = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    _download_prefix(channel, work / "input" / "data" / "train")
    contract = {
        "SM_CHANNEL_TRAIN": str(work / "input" / "data" / "train"),
        "SM_MODEL_DIR": str(work / "model"),
        "SM_OUTPUT_DATA_DIR": str(work / "output" / "data"),
        "SM_HPS": json.dumps(job["HyperParameters"]),
    }
    _run("clv-sagemaker-train", contract)
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    _put_tar(work / "model", model_uri)
    _put_tar(work / "output" / "data", model_uri.rsplit("/", 1)[0] + "/output.tar.gz")


def play_processing_job(request: dict, work: Path) -> None:
    """What SageMaker does with a processing job: on each of its instances, inputs in (a
    ShardedByS3Key channel deals its objects out by key), entry point, output prefix out."""
    count = request["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
    hosts = [f"algo-{i + 1}" for i in range(count)]
    for i, host in enumerate(hosts):
        here = work / host
        contract = dict(request["Environment"])
        if count > 1:
            (here / "config").mkdir(parents=True)
            (here / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
            contract["CLV_SM_RESOURCE_CONFIG"] = str(here / "config" / "resourceconfig.json")
        for item in request["ProcessingInputs"]:
            local = here / item["InputName"]
            sharded = item["S3Input"].get("S3DataDistributionType") == "ShardedByS3Key"
            _download_prefix(item["S3Input"]["S3Uri"], local, (i, count) if sharded else None)
            contract[{"model": "CLV_SM_MODEL_DIR", "input": "CLV_SM_INPUT_DIR"}[item["InputName"]]] = str(local)
        output = request["ProcessingOutputConfig"]["Outputs"][0]
        contract["CLV_SM_OUTPUT_DIR"] = str(here / "output")
        _run(request["AppSpecification"]["ContainerEntrypoint"][0], contract)
        bucket, prefix = s3.split_uri(output["S3Output"]["S3Uri"])
        for path in (here / "output").iterdir():
            boto3.client("s3").upload_file(str(path), bucket, prefix.rstrip("/") + "/" + path.name)


def test_train_and_score_on_sagemaker(aws, moto_server, tmp_path, monkeypatch):
    stdout = _cli("train", "--backend", "sagemaker", "--no-wait")
    job_name = stdout.split("submitted ", 1)[1].split(";", 1)[0]
    assert f"--attach {job_name}" in stdout

    # What the SDK sent.
    (sent,) = [r for r in moto_server.requests("SageMaker.CreateTrainingJob") if r["TrainingJobName"] == job_name]
    assert sent["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert sent["RoleArn"] == ROLE
    assert sent["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
    assert [c["ChannelName"] for c in sent["InputDataConfig"]] == ["train"]
    channel = sent["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert channel.startswith(f"s3://{aws['bucket']}/sagemaker/train/") and channel.endswith("/input/")
    assert sent["OutputDataConfig"]["S3OutputPath"] == f"s3://{aws['bucket']}/sagemaker/train/output"
    xgboost = load_model_config()["xgboost"]
    assert sent["HyperParameters"] == {k: json.dumps(v) for k, v in xgboost.items()}  # strings on the wire
    assert {"Key": "project", "Value": "clv-warehouse"} in sent["Tags"]
    staged = pd.read_parquet(io.BytesIO(_get(channel + "training_examples.parquet")))
    assert len(staged) == len(warehouse.read_mart(load_settings(), "marts.fct_clv_training_examples"))

    play_training_job(boto3.client("sagemaker").describe_training_job(TrainingJobName=job_name), tmp_path / "train")
    stdout = _cli("train", "--backend", "sagemaker", "--attach", job_name)
    assert "model version 1" in stdout
    client = MlflowClient()
    version = client.get_model_version(registry.MODEL_NAME, "1")
    assert client.get_run(version.run_id).data.tags["sagemaker_training_job"] == job_name

    # The same rows and parameters trained here give the same evaluation, metric by metric.
    train_stage.run_train(load_settings())
    lake = LakeRoot(aws["CLV_LAKE_DIR"])
    evaluations = pd.concat(
        lake.read("ml", "evaluations", f"run_id={run}").assign(run_id=run)
        for run in lake.partition_values("ml", "evaluations")
    )
    assert "oracle" in set(evaluations["model_name"])  # read from the lake on S3
    by_run = evaluations.pivot_table(
        index=["model_name", "slice_name", "slice_value", "metric"], columns="run_id", values="value"
    )
    assert by_run.shape[1] == 2 and version.run_id in by_run.columns
    (local_run,) = [run for run in by_run.columns if run != version.run_id]
    pd.testing.assert_series_equal(by_run[version.run_id], by_run[local_run], check_names=False)

    # Batch scoring with the champion as a processing job: the SageMaker-trained version (the
    # small test shop does not always pass the gates, so it is promoted by hand, with a reason).
    _cli("promote", "1", "--force", "--reason", "test shop: exercise SageMaker scoring")
    champion = "1"
    stdout = _cli("score", "--backend", "sagemaker", "--as-of-date", "2024-12-31", "--reasons", "approx", "--no-wait")
    job_name = stdout.split("submitted ", 1)[1].split(";", 1)[0]
    (sent,) = [r for r in moto_server.requests("SageMaker.CreateProcessingJob") if r["ProcessingJobName"] == job_name]
    assert sent["AppSpecification"] == {"ImageUri": IMAGE, "ContainerEntrypoint": ["clv-sagemaker-score"]}
    assert sent["RoleArn"] == ROLE
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.2xlarge"
    inputs = {i["InputName"]: i["S3Input"] for i in sent["ProcessingInputs"]}
    assert {name: i["LocalPath"] for name, i in inputs.items()} == {
        "model": "/opt/ml/processing/model",
        "input": "/opt/ml/processing/input",
    }
    base = inputs["input"]["S3Uri"].removesuffix("/input/")
    assert base.startswith(f"s3://{aws['bucket']}/sagemaker/score/")
    assert sent["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == base + "/output/"
    assert sent["Environment"]["CLV_MODEL_VERSION"] == champion
    assert sent["Environment"]["CLV_REASONS"] == "approx"

    play_processing_job(sent, tmp_path / "score")
    stdout = _cli("score", "--backend", "sagemaker", "--attach", job_name)
    assert f"at 2024-12-31 with model version {champion}" in stdout
    assert f"-> s3://{aws['bucket']}/lake/ml/scores/as_of_date=2024-12-31/part-0.parquet\n" in stdout
    landed = lake.read("ml", "scores", "as_of_date=2024-12-31")
    features = score_stage.features_at(load_settings(), pd.Timestamp("2024-12-31").date())
    assert sorted(landed["customer_id"]) == sorted(features["customer_id"])
    assert set(landed["model_version"]) == {champion}

    # Locally, the same champion gives the same scores (only scored_at, a clock reading, differs).
    local_scores = score_stage.run_score(load_settings(), pd.Timestamp("2024-12-31").date(), reasons="approx")
    assert local_scores.rows == len(landed)
    relanded = lake.read("ml", "scores", "as_of_date=2024-12-31")
    pd.testing.assert_frame_equal(landed.drop(columns="scored_at"), relanded.drop(columns="scored_at"))

    # Scale-out: three instances, customers sharded by a stable hash, one input file each; the
    # shards merge into one partition with the population's percentiles and tiers, the same
    # scores as one machine gives.
    monkeypatch.setenv("CLV_SAGEMAKER_INSTANCE_COUNT", "3")
    stdout = _cli("score", "--backend", "sagemaker", "--as-of-date", "2024-12-31", "--no-wait")
    monkeypatch.delenv("CLV_SAGEMAKER_INSTANCE_COUNT")
    job_name = stdout.split("submitted ", 1)[1].split(";", 1)[0]
    (sent,) = [r for r in moto_server.requests("SageMaker.CreateProcessingJob") if r["ProcessingJobName"] == job_name]
    assert sent["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    inputs = {i["InputName"]: i["S3Input"] for i in sent["ProcessingInputs"]}
    assert inputs["input"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert inputs["model"]["S3DataDistributionType"] == "FullyReplicated"
    bucket, prefix = s3.split_uri(inputs["input"]["S3Uri"])
    staged = [
        pd.read_parquet(io.BytesIO(_get(f"s3://{bucket}/{o['Key']}")))["customer_id"]
        for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    ]
    assert len(staged) == 3 and all(len(ids) > 0 for ids in staged)
    assert sorted(pd.concat(staged)) == sorted(features["customer_id"])  # disjoint and complete
    play_processing_job(sent, tmp_path / "score-3")
    merged = CliRunner().invoke(app, ["score", "--backend", "sagemaker", "--attach", job_name])
    assert merged.exit_code == 0, (merged.output, merged.exception)
    assert f"merged 3 shard(s): {len(features):,} customers" in merged.stderr
    sharded = lake.read("ml", "scores", "as_of_date=2024-12-31").sort_values("customer_id", ignore_index=True)
    score_stage.run_score(load_settings(), pd.Timestamp("2024-12-31").date())
    local = lake.read("ml", "scores", "as_of_date=2024-12-31").sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(sharded.drop(columns="scored_at"), local.drop(columns="scored_at"))

    # The monitor reads the scores from S3 and lands its verdict there; retrain-needed reads it.
    monitored = monitor_stage.run_monitor(load_settings(), pd.Timestamp("2024-12-31").date())
    runs = lake.read("ml", "monitor_runs", "as_of_date=2024-12-31")
    assert runs["retrain"].tolist() == [monitored.decision.retrain]
    assert len(lake.read("ml", "drift", "as_of_date=2024-12-31")) == len(monitored.drift)
    needed = CliRunner().invoke(app, ["retrain-needed", "--as-of-date", "2024-12-31"])
    assert needed.exit_code == (0 if monitored.decision.retrain else 99)

    # A job that ends Stopped or Failed fails the command with SageMaker's status.
    stdout = _cli("score", "--backend", "sagemaker", "--as-of-date", "2024-12-31", "--no-wait")
    job_name = stdout.split("submitted ", 1)[1].split(";", 1)[0]
    boto3.client("sagemaker").stop_processing_job(ProcessingJobName=job_name)
    result = CliRunner().invoke(app, ["score", "--backend", "sagemaker", "--attach", job_name])
    assert isinstance(result.exception, RuntimeError)
    assert f"SageMaker processing job {job_name} Stopped" in str(result.exception)


def _get(uri: str) -> bytes:
    bucket, key = s3.split_uri(uri)
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_attach_names_what_the_job_did_not_write(aws):
    stdout = _cli("train", "--backend", "sagemaker", "--no-wait")
    job_name = stdout.split("submitted ", 1)[1].split(";", 1)[0]
    # moto reports the job Completed at once, but nothing ran: no model.tar.gz on S3.
    result = CliRunner().invoke(app, ["train", "--backend", "sagemaker", "--attach", job_name])
    assert isinstance(result.exception, FileNotFoundError)
    assert f"{job_name}/output/model.tar.gz does not exist" in str(result.exception)


def test_missing_settings_are_named(monkeypatch, aws):
    monkeypatch.delenv("CLV_SAGEMAKER_IMAGE_URI")
    result = CliRunner().invoke(app, ["score", "--backend", "sagemaker", "--as-of-date", "2024-12-31"])
    assert result.exit_code != 0
    assert "CLV_SAGEMAKER_IMAGE_URI" in str(result.exception)
