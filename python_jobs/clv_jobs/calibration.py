"""The model's level (ADR 0014, 0019): every candidate is multiplied by one factor so its total
predicted revenue is close to the realized one — fitted on the validation date, or, when most of
the test date's customers are older than any the validation date holds (one cohort ageing), set
to BG/NBD + Gamma-Gamma's own total on the test date, which needs no labels. Under a one-year
horizon the validation date's factor is carried to other as-of months by a seasonal index
(ADR 0020): a label window of a few months covers part of the year's seasons."""

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
    "FULL_YEAR_DAYS",
    "SEASON_MIN_YEARS",
    "season_by_month",
    "describe_season",
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


# A label window of at least this many days covers every season: no seasonal index.
FULL_YEAR_DAYS = 365
# A calendar month seen on fewer as-of dates than this cannot tell its season from the trend.
SEASON_MIN_YEARS = 2


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
    horizon) there: it keeps its ranking and takes BTYD's level (clipped to CALIBRATION_BOUNDS).
    Rows beyond the model's support are BTYD's own prediction already (ADR 0021); the factor
    levels the others at BTYD's total on them."""
    rows = model.with_btyd(rows)
    inside = ~model.beyond_support(rows)
    uncalibrated = dataclasses.replace(model, calibration=1.0).predict_revenue(rows)
    btyd = btyd_revenue(rows) * model.carry(rows)
    return dataclasses.replace(model, calibration=calibration_factor(btyd[inside], uncalibrated[inside]))


def season_by_month(model: ClvModel, rows: pd.DataFrame, label: str, valid_month: int) -> list[float] | None:
    """`model`'s seasonal index: its realized / predicted total on `rows` (labelled over its
    horizon) by the calendar month of the as-of date — the geometric mean over the years — divided
    by `valid_month`'s, so the validation date keeps its factor (clipped to CALIBRATION_BOUNDS).
    None unless every month has SEASON_MIN_YEARS as-of dates with revenue.

    In-sample on purpose: the model sees no calendar feature, so what it misses by month is the
    season; the ratio to the validation month cancels what it misses on every date alike."""
    plain = dataclasses.replace(model, calibration=1.0, season_by_month=None)
    totals = (
        pd.DataFrame(
            {
                "as_of_date": pd.to_datetime(rows["as_of_date"]).to_numpy(),
                "realized": rows[label].to_numpy(float),
                "predicted": plain.predict_revenue(rows),
            }
        )
        .groupby("as_of_date")
        .sum()
    )
    totals = totals[(totals["realized"] > 0) & (totals["predicted"] > 0)]
    log_ratio = np.log(totals["realized"] / totals["predicted"]).groupby(totals.index.month)
    if log_ratio.size().reindex(range(1, 13), fill_value=0).min() < SEASON_MIN_YEARS:
        return None
    index = np.exp(log_ratio.mean().reindex(range(1, 13)).to_numpy())
    return np.clip(index / index[valid_month - 1], *CALIBRATION_BOUNDS).tolist()


def describe_season(index: list[float] | None, valid_date: pd.Timestamp, test_date: pd.Timestamp) -> str:
    """The seasonal index in one line of `train`'s progress."""
    if index is None:
        return (
            f"season: label windows under a year, but some calendar month has fewer than {SEASON_MIN_YEARS} "
            "as-of dates: one calibration for every month"
        )
    by_month = " ".join(f"{pd.Timestamp(2000, m, 1):%b} {v:.2f}" for m, v in enumerate(index, start=1))
    return (
        f"season: calibration by as-of month, relative to the validation date's ({valid_date:%b}): {by_month}; "
        f"the test date ({test_date:%b}) x{index[test_date.month - 1]:.2f}"
    )
