"""The model's level (ADR 0014, 0019): every candidate is multiplied by one factor so its total
predicted revenue is close to the realized one — fitted on the validation date, or, when most of
the test date's customers are older than any the validation date holds (one cohort ageing), set
to BG/NBD + Gamma-Gamma's own total on the test date, which needs no labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from clv_jobs.evaluate import rmse
from clv_jobs.model import ClvModel, btyd_revenue

__all__ = [
    "CALIBRATION_BOUNDS",
    "LEVEL_SOURCES",
    "calibration_factor",
    "calibrated_rmse",
    "older_share",
    "beyond_validated_ages",
    "at_btyd_level",
]

# A calibration factor outside these bounds means the validation date is not like the future
# (a one-off spike, an empty month): it is clipped rather than trusted.
CALIBRATION_BOUNDS = (0.25, 4.0)
# Where a model's level comes from (`TrainResult.level`), in words for its summary and model card.
LEVEL_SOURCES = {
    "validation": "the validation total",
    "btyd": "BG/NBD + Gamma-Gamma's total on the test date",
    "none": "nothing (calibration off)",
}


def calibration_factor(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Realized total over predicted total (clipped to CALIBRATION_BOUNDS); 1 when nothing is predicted."""
    predicted = float(np.sum(y_pred))
    if predicted <= 0:
        return 1.0
    return float(np.clip(np.sum(y_true) / predicted, *CALIBRATION_BOUNDS))


def calibrated_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return rmse(y_true, y_pred * calibration_factor(y_true, y_pred))


def older_share(valid: pd.DataFrame, test: pd.DataFrame) -> float:
    """The share of the test date's customers older (tenure) than every customer on the
    validation date: near 0 for a shop that acquires all along, 1 for a single cohort ageing."""
    return float((test["tenure_days"] > valid["tenure_days"].max()).mean())


def beyond_validated_ages(config: dict, valid: pd.DataFrame, test: pd.DataFrame, progress) -> bool:
    """Whether more than `[training] btyd_level_older_share` of the test date's customers are
    older than any on the validation date: then a calibration fitted there, and trees that saw
    only younger customers, extrapolate in customer age; BG/NBD + Gamma-Gamma's structure
    carries instead."""
    share, limit = older_share(valid, test), config["training"]["btyd_level_older_share"]
    older = f"{share:.0%} of the test date's customers are older than any on the validation date"
    if share <= limit:
        progress(f"ages: {older}")
        return False
    progress(
        f"ages: {older} (above {limit:.0%}): candidates boosted from BG/NBD + Gamma-Gamma only, "
        f"at its total on the test date rather than calibrated on the validation date"
    )
    return True


def at_btyd_level(model: ClvModel, rows: pd.DataFrame) -> ClvModel:
    """`model` calibrated so its total over `rows` equals BG/NBD + Gamma-Gamma's (carried to the
    horizon) there: it keeps its ranking and takes BTYD's level (clipped to CALIBRATION_BOUNDS)."""
    rows = model.with_btyd(rows)
    uncalibrated = dataclasses.replace(model, calibration=1.0).predict_revenue(rows)
    return dataclasses.replace(
        model, calibration=calibration_factor(btyd_revenue(rows) * model.carry(rows), uncalibrated)
    )
