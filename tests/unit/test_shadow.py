"""Shadow comparison figures and verdict on known inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv_jobs import shadow
from clv_jobs.model import load_model_config

LIMITS = load_model_config()["shadow"]


def _figures(champion, challenger, **resources):
    figures = shadow.compare(pd.Series(champion), pd.Series(challenger))
    figures.update(
        {
            "champion_seconds": 10.0,
            "challenger_seconds": 10.0,
            "champion_peak_mb": 500.0,
            "challenger_peak_mb": 500.0,
            **resources,
        }
    )
    return figures


def test_identical_predictions_pass():
    values = np.random.default_rng(0).gamma(2, 50, 1000)
    figures = _figures(values, values)
    assert figures["spearman"] == pytest.approx(1) and figures["top_decile_overlap"] == 1
    assert shadow.verdict(figures, LIMITS) == []


@pytest.mark.parametrize(
    ("transform", "resources", "failure"),
    [
        (lambda v: v * 1.2, {}, "mean prediction moved 20.0%"),
        (lambda v: np.where(np.arange(len(v)) % 10 < 6, 0, v), {}, "zero predictions"),
        (lambda v: np.where(np.arange(len(v)) == 0, np.nan, v), {}, "missing predictions"),
        (lambda v: v[::-1].copy(), {}, "rank correlation"),
        (lambda v: v, {"challenger_seconds": 11.5}, "seconds 11.50s > champion's 10.00s"),
        (lambda v: v, {"challenger_peak_mb": 600.0}, "peak mb"),
    ],
    ids=["shift", "zeros", "missing", "ranking", "slower", "memory"],
)
def test_each_criterion_can_fail(transform, resources, failure):
    values = np.random.default_rng(1).gamma(2, 50, 1000)
    failed = shadow.verdict(_figures(values, transform(values), **resources), LIMITS)
    assert any(failure in f for f in failed), failed


def test_resource_differences_below_the_noise_floor_pass():
    values = np.random.default_rng(2).gamma(2, 50, 1000)
    figures = _figures(values, values, champion_seconds=0.5, challenger_seconds=0.9)
    assert shadow.verdict(figures, LIMITS) == []
