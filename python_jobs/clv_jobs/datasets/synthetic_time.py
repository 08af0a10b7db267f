"""The synthetic shop's calendar: day offsets from the shop's first day to months and timestamps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from clv_jobs.datasets.synthetic import ShopParams

__all__ = ["DAYS_PER_YEAR", "SECONDS_PER_DAY", "day_to_month_index", "timestamps"]

DAYS_PER_YEAR = 365.25
SECONDS_PER_DAY = 86_400


def day_to_month_index(params: ShopParams, day: np.ndarray) -> np.ndarray:
    """Calendar month (0..11) of day offsets from params.start."""
    dates = np.datetime64(params.start) + day.astype("timedelta64[D]")
    return dates.astype("datetime64[M]").astype(np.int64) % 12


def timestamps(params: ShopParams, day_float: np.ndarray) -> pa.Array:
    """Fractional day offsets -> Arrow timestamp[us] (UTC, naive)."""
    base_us = np.datetime64(params.start, "us").astype(np.int64)
    micros = base_us + np.round(day_float * SECONDS_PER_DAY * 1e6).astype(np.int64)
    return pa.array(micros.astype("datetime64[us]"), type=pa.timestamp("us"))
