"""`clv-jobs train/score --backend sagemaker`: stage the inputs on S3, build and submit the jobs
with the sagemaker SDK 3.x (`sagemaker.train.ModelTrainer` for training,
`sagemaker.core.processing.Processor` for batch scoring), wait, and bring the results back to
the same code the local backend ends with (`jobs.register_trained`, `jobs.land_scores`).

The containers run this package's entry points (`backends/sagemaker.py`), so a model trained on
SageMaker is trained by `train.train_models` and scored by `score.score_frame`, as locally.

Configuration, from the environment (Terraform's outputs name each value):

- `CLV_SAGEMAKER_ROLE_ARN`: the execution role (`terraform output sagemaker_role_arn`)
- `CLV_SAGEMAKER_IMAGE_URI`: the image built from `docker/sagemaker/Dockerfile`
- `CLV_SAGEMAKER_S3_URI`: where jobs read and write (`terraform output sagemaker_s3_uri`)
- `CLV_SAGEMAKER_INSTANCE_TYPE` (default ml.m5.xlarge), `CLV_SAGEMAKER_MAX_RUNTIME_S` (7200)

S3 layout under `CLV_SAGEMAKER_S3_URI`: `train/<run>/input/` (the train channel),
`train/output/<job>/output/{model,output}.tar.gz` (SageMaker's), `score/<run>/{input,model,output}/`
and `score/<run>/request.json` (what `--attach` needs to land the scores).
The AWS endpoints come from boto3's usual configuration (`AWS_ENDPOINT_URL` points them at a
stand-in, as the tests do with moto's server).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError

from clv_jobs import s3
from clv_jobs.backends import sagemaker as contract
from clv_jobs.features import FeatureSpec
from clv_jobs.model import ClvModel, order_examples
from clv_jobs.train import TrainResult

__all__ = [
    "SageMakerSettings",
    "TRAIN_CHANNEL",
    "submit_training",
    "collect_training",
    "submit_scoring",
    "collect_scoring",
    "wait_for_job",
]

TRAIN_CHANNEL = "train"
TERMINAL = {"Completed", "Failed", "Stopped"}
TAGS = {"project": "clv-warehouse"}
PROCESSING_ROOT = "/opt/ml/processing"


@dataclass(frozen=True)
class SageMakerSettings:
    role_arn: str
    image_uri: str
    s3_uri: str
    instance_type: str = "ml.m5.xlarge"
    max_runtime_s: int = 7200
    # Batch scoring across this many instances (customers sharded by a stable hash).
    instance_count: int = 1

    @classmethod
    def from_env(cls) -> SageMakerSettings:
        required = {
            "CLV_SAGEMAKER_ROLE_ARN": "terraform output sagemaker_role_arn",
            "CLV_SAGEMAKER_IMAGE_URI": "the image built from docker/sagemaker/Dockerfile and pushed to ECR",
            "CLV_SAGEMAKER_S3_URI": "terraform output sagemaker_s3_uri",
        }
        missing = [f"{name} ({hint})" for name, hint in required.items() if not os.environ.get(name)]
        if missing:
            raise ValueError("--backend sagemaker needs " + "; ".join(missing))
        uri = os.environ["CLV_SAGEMAKER_S3_URI"].rstrip("/")
        s3.split_uri(uri)  # fails naming the value when it is not s3://bucket/prefix
        return cls(
            role_arn=os.environ["CLV_SAGEMAKER_ROLE_ARN"],
            image_uri=os.environ["CLV_SAGEMAKER_IMAGE_URI"],
            s3_uri=uri,
            instance_type=os.environ.get("CLV_SAGEMAKER_INSTANCE_TYPE", "ml.m5.xlarge"),
            max_runtime_s=int(os.environ.get("CLV_SAGEMAKER_MAX_RUNTIME_S", "7200")),
            instance_count=_positive_int("CLV_SAGEMAKER_INSTANCE_COUNT", "1"),
        )


def _positive_int(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: must be a whole number of at least 1")
    return int(value)


def shard_of(customer_ids: pd.Series, shards: int) -> np.ndarray:
    """A customer's shard: CRC-32 of the id modulo `shards`, the same on every run and machine
    (Python's hash() is salted per process)."""
    return np.array([zlib.crc32(str(c).encode()) % shards for c in customer_ids], dtype=np.int64)


def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _session(settings: SageMakerSettings):
    import boto3
    from sagemaker.core.helper.session_helper import Session

    bucket, _ = s3.split_uri(settings.s3_uri)
    return Session(boto_session=boto3.Session(), default_bucket=bucket)


def _put(client, uri: str, body: bytes) -> None:
    bucket, key = s3.split_uri(uri)
    client.put_object(Bucket=bucket, Key=key, Body=body)


@contextmanager
def _missing_object_named(uri: str, hint: str):
    """S3's "no such key" as a FileNotFoundError naming `uri`; get_object says NoSuchKey, the
    managed download (a HEAD first) says 404."""
    try:
        yield
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            raise FileNotFoundError(f"{uri} does not exist: {hint}") from None
        raise


def _get(client, uri: str) -> bytes:
    bucket, key = s3.split_uri(uri)
    with _missing_object_named(uri, "did the SageMaker job write it?"):
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def _get_parquet(client, uri: str) -> pd.DataFrame:
    """Through a temporary file, not bytes in memory: the training mart is the largest object."""
    bucket, key = s3.split_uri(uri)
    with tempfile.TemporaryDirectory() as tmp, _missing_object_named(uri, "was the job's input deleted?"):
        path = Path(tmp) / "part.parquet"
        client.download_file(bucket, key, str(path))
        return pd.read_parquet(path)


def _untar(data: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(directory, filter="data")  # "data" refuses absolute paths and links out
    return directory


def wait_for_job(kind: str, name: str, progress=lambda m: None, poll_s: float = 30.0) -> dict:
    """Describe a training or processing job until it ends; its description if it completed,
    else a RuntimeError with SageMaker's failure reason."""
    import boto3

    client = boto3.client("sagemaker")
    describe = client.describe_training_job if kind == "training" else client.describe_processing_job
    key = "TrainingJobName" if kind == "training" else "ProcessingJobName"
    status_key = "TrainingJobStatus" if kind == "training" else "ProcessingJobStatus"
    started, last = time.monotonic(), None
    while True:
        job = describe(**{key: name})
        status = job[status_key]
        if status != last:
            progress(f"SageMaker {kind} job {name}: {status} ({time.monotonic() - started:.0f} s)")
            last = status
        if status in TERMINAL:
            break
        time.sleep(poll_s)
    if status != "Completed":
        raise RuntimeError(f"SageMaker {kind} job {name} {status}: {job.get('FailureReason', 'no reason given')}")
    return job


# --- training -------------------------------------------------------------------------------


def submit_training(
    frame: pd.DataFrame, spec: FeatureSpec, hyperparameters: dict, settings: SageMakerSettings, progress=lambda m: None
) -> str:
    """Stage the train channel and submit the training job; returns the job name."""
    from sagemaker.core.shapes import Tag
    from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig, StoppingCondition
    from sagemaker.train import ModelTrainer

    client = s3.client()
    channel = f"{settings.s3_uri}/train/{_run_id()}/input/"
    progress(f"staging {len(frame):,} training rows on {channel}")
    s3.put_parquet(pa.Table.from_pandas(frame, preserve_index=False), channel + "training_examples.parquet", client)
    _put(client, channel + "features.json", json.dumps(spec.__dict__).encode())
    trainer = ModelTrainer(
        training_image=settings.image_uri,
        role=settings.role_arn,
        sagemaker_session=_session(settings),
        base_job_name="clv-train",
        compute=Compute(instance_type=settings.instance_type, instance_count=1, volume_size_in_gb=30),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=settings.max_runtime_s),
        output_data_config=OutputDataConfig(s3_output_path=f"{settings.s3_uri}/train/output"),
        hyperparameters=hyperparameters,
        tags=[Tag(key=k, value=v) for k, v in TAGS.items()],
    )
    trainer.train(
        input_data_config=[InputData(channel_name=TRAIN_CHANNEL, data_source=channel)], wait=False, logs=False
    )
    # The SDK's documented handle on the job it created (ModelTrainer's docstring example).
    name = trainer._latest_training_job.training_job_name
    progress(f"submitted SageMaker training job {name} (image {settings.image_uri}, {settings.instance_type})")
    return name


def collect_training(job_name: str, progress=lambda m: None, poll_s: float = 30.0):
    """Wait for a training job; return (training rows, feature spec, TrainResult) rebuilt from
    the job's own input channel and its model.tar.gz / output.tar.gz."""
    job = wait_for_job("training", job_name, progress, poll_s)
    client = s3.client()
    channel = next(c for c in job["InputDataConfig"] if c["ChannelName"] == TRAIN_CHANNEL)
    channel_uri = channel["DataSource"]["S3DataSource"]["S3Uri"].rstrip("/") + "/"
    model_uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    output_uri = model_uri.rsplit("/", 1)[0] + "/output.tar.gz"
    progress(f"downloading {model_uri} and {output_uri}")
    frame = order_examples(_get_parquet(client, channel_uri + "training_examples.parquet"))
    spec = FeatureSpec(**json.loads(_get(client, channel_uri + "features.json")))
    with tempfile.TemporaryDirectory() as tmp:
        model = ClvModel.load(_untar(_get(client, model_uri), Path(tmp) / "model"))
        output = _untar(_get(client, output_uri), Path(tmp) / "output")
        summary = json.loads((output / contract.FIT_SUMMARY_FILE).read_text())
        test = pd.read_parquet(output / contract.TEST_ROWS_FILE)
    result = TrainResult(
        model=model,
        baselines=None,
        validation=summary["validation"],
        best_iteration=int(summary["best_iteration"]),
        test=test,
        prediction_columns=list(summary["prediction_columns"]),
        tuning=summary["tuning"],
        selected=summary.get("selected", ""),
        level=summary.get("level", "validation"),
    )
    return frame, spec, result


# --- batch scoring --------------------------------------------------------------------------


def submit_scoring(
    features: pd.DataFrame,
    model: ClvModel,
    version: str,
    as_of_date: date,
    scored_at: datetime,
    reasons: str,
    settings: SageMakerSettings,
    progress=lambda m: None,
) -> str:
    """Stage the features and the champion, submit the processing job; returns the job name."""
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output

    client = s3.client()
    base = f"{settings.s3_uri}/score/{_run_id()}"
    # BG/NBD + Gamma-Gamma are fitted on the whole population here, so a shard's customers get
    # the parameters they would get scored together (the instances only apply them).
    features = model.with_btyd(features)
    shards = min(settings.instance_count, len(features))
    progress(f"staging {len(features):,} customers ({shards} shard(s)) and model version {version} on {base}/")
    shard = shard_of(features["customer_id"], shards)
    for k in range(shards):
        part = pa.Table.from_pandas(features[shard == k], preserve_index=False)
        s3.put_parquet(part, f"{base}/input/part-{k:05d}.parquet", client)
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(model.save(Path(tmp)).iterdir()):
            _put(client, f"{base}/model/{path.name}", path.read_bytes())

    def channel(name: str, uri: str, distribution: str = "FullyReplicated") -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=f"{PROCESSING_ROOT}/{name}",
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type=distribution,
            ),
        )

    processor = Processor(
        role=settings.role_arn,
        image_uri=settings.image_uri,
        instance_count=shards,
        instance_type=settings.instance_type,
        entrypoint=["clv-sagemaker-score"],
        max_runtime_in_seconds=settings.max_runtime_s,
        base_job_name="clv-score",
        sagemaker_session=_session(settings),
        env={"CLV_MODEL_VERSION": version, "CLV_SCORED_AT": scored_at.isoformat(), "CLV_REASONS": reasons},
        tags=TAGS,  # the SDK turns the dict into [{"Key", "Value"}]
    )
    processor.run(
        # One input file per instance: SageMaker deals the files out by key (ShardedByS3Key).
        inputs=[channel("model", f"{base}/model/"), channel("input", f"{base}/input/", "ShardedByS3Key")],
        outputs=[
            ProcessingOutput(
                output_name="scores",
                s3_output=ProcessingS3Output(
                    s3_uri=f"{base}/output/", local_path=f"{PROCESSING_ROOT}/output", s3_upload_mode="EndOfJob"
                ),
            )
        ],
        wait=False,
        logs=False,
    )
    name = processor.latest_job.processing_job_name
    request = {
        "job_name": name,
        "as_of_date": str(as_of_date),
        "model_version": version,
        "reasons": reasons,
        "customers": len(features),
        "shards": shards,
    }
    _put(client, f"{base}/request.json", json.dumps(request).encode())
    progress(
        f"submitted SageMaker processing job {name} (image {settings.image_uri}, {shards} x {settings.instance_type})"
    )
    return name


def collect_scoring(job_name: str, progress=lambda m: None, poll_s: float = 30.0):
    """Wait for a scoring job; return (as-of date, model version, scores table)."""
    job = wait_for_job("processing", job_name, progress, poll_s)
    output = next(o for o in job["ProcessingOutputConfig"]["Outputs"] if o["OutputName"] == "scores")
    output_uri = output["S3Output"]["S3Uri"].rstrip("/")
    client = s3.client()
    request = json.loads(_get(client, output_uri.rsplit("/", 1)[0] + "/request.json"))
    if request["job_name"] != job_name:
        raise ValueError(f"{output_uri}: staged for job {request['job_name']}, not {job_name}")
    bucket, prefix = s3.split_uri(output_uri + "/")
    listing = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = sorted(o["Key"] for page in listing for o in page.get("Contents", []) if o["Key"].endswith(".parquet"))
    if not keys:
        raise FileNotFoundError(f"{output_uri}/: the job wrote no scores")
    table = pa.concat_tables([pq.read_table(io.BytesIO(_get(client, f"s3://{bucket}/{key}"))) for key in keys])
    # Every staged customer scored exactly once, whatever the instances did.
    ids = table.column("customer_id").to_pandas()
    expected = request.get("customers", len(table))
    if len(table) != expected or ids.duplicated().any():
        raise ValueError(
            f"{output_uri}/: {len(table):,} scores in {len(keys)} file(s) ({int(ids.duplicated().sum()):,} duplicated) "
            f"for {expected:,} staged customers"
        )
    progress(f"merged {len(keys)} shard(s): {len(table):,} customers")
    return date.fromisoformat(request["as_of_date"]), request["model_version"], table
