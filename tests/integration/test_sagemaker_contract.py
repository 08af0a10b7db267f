"""The SageMaker entry points run under SageMaker's container contract (channels, model and
output dirs, hyperparameters as env) as local processes, and produce what the local backend
produces: the same model predictions and the same scores."""

from __future__ import annotations

import json
import os
import subprocess

import duckdb
import numpy as np
import pandas as pd

from clv_jobs import score
from clv_jobs.backends import sagemaker
from clv_jobs.features import feature_spec_from_manifest
from clv_jobs.model import ClvModel, load_model_config
from clv_jobs.train import train_models
from conftest import BIN, PROJECT_DIR


def test_tiers_match_the_seed():
    assert sagemaker.TIERS == score.load_tiers(PROJECT_DIR / "seeds" / "clv_value_tiers.csv")


def test_train_and_score_entry_points_match_the_local_backend(duckdb_build, tmp_path):
    path, result = duckdb_build
    assert result.returncode == 0
    channel, model_dir, output_dir = tmp_path / "data" / "train", tmp_path / "model", tmp_path / "output"
    channel.mkdir(parents=True)
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(
            f"copy marts.fct_clv_training_examples to '{channel / 'training_examples.parquet'}' (format parquet)"
        )
        con.execute(
            "copy (select * from marts.fct_customer_features where as_of_date = '2024-12-31') "
            f"to '{tmp_path / 'features.parquet'}' (format parquet)"
        )
    spec = feature_spec_from_manifest(path.parent / "target" / "manifest.json")
    (channel / "features.json").write_text(json.dumps(spec.__dict__))
    contract = {
        "SM_CHANNEL_TRAIN": str(channel),
        "SM_MODEL_DIR": str(model_dir),
        "SM_OUTPUT_DATA_DIR": str(output_dir),
        "SM_HPS": json.dumps({"max_depth": "3", "learning_rate": "0.05"}),  # strings, as SageMaker sends them
    }
    train_run = subprocess.run(
        [str(BIN / "clv-sagemaker-train")], env={**os.environ, **contract}, capture_output=True, text=True
    )
    assert train_run.returncode == 0, train_run.stderr[-3000:]
    assert (output_dir / "metrics.csv").exists()
    remote = ClvModel.load(model_dir)

    # The local backend on the same rows.
    frame = pd.read_parquet(channel / "training_examples.parquet")
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    frame = frame.sort_values(["as_of_date", "customer_id"], kind="stable").reset_index(drop=True)
    local = train_models(frame, spec, load_model_config(), int(frame["horizon_days"].iloc[0])).model
    features = pd.read_parquet(tmp_path / "features.parquet")
    features["as_of_date"] = pd.to_datetime(features["as_of_date"])
    assert remote.objective == local.objective
    np.testing.assert_array_equal(remote.predict_revenue(features), local.predict_revenue(features))

    (tmp_path / "processing" / "input").mkdir(parents=True)
    (tmp_path / "features.parquet").rename(tmp_path / "processing" / "input" / "part-0.parquet")
    scoring = {
        "CLV_SM_MODEL_DIR": str(model_dir),
        "CLV_SM_INPUT_DIR": str(tmp_path / "processing" / "input"),
        "CLV_SM_OUTPUT_DIR": str(tmp_path / "processing" / "output"),
        "CLV_MODEL_VERSION": "7",
        "CLV_SCORED_AT": "2025-01-01T02:00:00",
    }
    score_run = subprocess.run(
        [str(BIN / "clv-sagemaker-score")], env={**os.environ, **scoring}, capture_output=True, text=True
    )
    assert score_run.returncode == 0, score_run.stderr[-3000:]
    remote_scores = pd.read_parquet(tmp_path / "processing" / "output" / "scores.parquet")
    local_scores = score.score_frame(
        local, "7", features, sagemaker.TIERS, pd.Timestamp("2025-01-01T02:00:00").to_pydatetime()
    ).to_pandas()
    pd.testing.assert_frame_equal(remote_scores, local_scores)


def test_train_entry_names_a_missing_channel_file(tmp_path):
    run = subprocess.run(
        [str(BIN / "clv-sagemaker-train")],
        env={**os.environ, "SM_CHANNEL_TRAIN": str(tmp_path), "SM_MODEL_DIR": str(tmp_path / "m")},
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "training_examples.parquet missing from the train channel" in run.stderr


def test_hyperparameters_from_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SM_HPS", raising=False)
    monkeypatch.setenv("SM_INPUT_CONFIG_DIR", str(tmp_path))
    (tmp_path / "hyperparameters.json").write_text(json.dumps({"max_depth": "4", "objective_name": "tweedie"}))
    assert sagemaker.read_hyperparameters() == {"max_depth": 4, "objective_name": "tweedie"}


def test_the_image_runs_the_entry_points_the_package_declares():
    """docker/sagemaker/Dockerfile is not built here (no Docker daemon, no registry), so check
    what it depends on: its entry point, and the processing entry point the launcher names,
    are console scripts of this package, and every path it copies exists."""
    import tomllib

    dockerfile = (PROJECT_DIR / "docker" / "sagemaker" / "Dockerfile").read_text()
    scripts = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["scripts"]
    (entrypoint,) = [
        json.loads(line.split(None, 1)[1]) for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT")
    ]
    assert entrypoint == ["clv-sagemaker-train"] and scripts[entrypoint[0]] == "clv_jobs.backends.sagemaker:train_entry"
    assert scripts["clv-sagemaker-score"] == "clv_jobs.backends.sagemaker:score_entry"
    launcher = (PROJECT_DIR / "python_jobs" / "clv_jobs" / "backends" / "sagemaker_launcher.py").read_text()
    assert 'entrypoint=["clv-sagemaker-score"]' in launcher
    for line in dockerfile.splitlines():
        if line.startswith("COPY"):
            for source in line.split()[1:-1]:
                assert (PROJECT_DIR / source).exists(), f"Dockerfile copies {source}, which does not exist"
