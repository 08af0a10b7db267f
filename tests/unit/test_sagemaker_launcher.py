"""Sharding for multi-instance SageMaker scoring: stable across runs and machines, complete."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from clv_jobs.backends.sagemaker_launcher import SageMakerSettings, shard_of


def test_a_customer_keeps_its_shard_in_another_process():
    ids = pd.Series([f"C{i:06d}" for i in range(2_000)])
    here = shard_of(ids, 5)
    # Python's own hash() is salted per process; CRC-32 is not.
    code = (
        "import pandas as pd; from clv_jobs.backends.sagemaker_launcher import shard_of; "
        "print(','.join(map(str, shard_of(pd.Series([f'C{i:06d}' for i in range(2000)]), 5))))"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert here.tolist() == [int(x) for x in there.strip().split(",")]
    counts = np.bincount(here, minlength=5)
    assert counts.sum() == 2_000 and counts.min() > 300  # every shard gets a fair share


def test_the_instance_count_must_be_a_positive_whole_number(monkeypatch):
    monkeypatch.setenv("CLV_SAGEMAKER_ROLE_ARN", "arn:aws:iam::123456789012:role/clv")
    monkeypatch.setenv("CLV_SAGEMAKER_IMAGE_URI", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/clv:1")
    monkeypatch.setenv("CLV_SAGEMAKER_S3_URI", "s3://bucket/sagemaker")
    monkeypatch.setenv("CLV_SAGEMAKER_INSTANCE_COUNT", "0")
    with pytest.raises(ValueError, match="CLV_SAGEMAKER_INSTANCE_COUNT='0': must be a whole number of at least 1"):
        SageMakerSettings.from_env()
    monkeypatch.setenv("CLV_SAGEMAKER_INSTANCE_COUNT", "4")
    assert SageMakerSettings.from_env().instance_count == 4
