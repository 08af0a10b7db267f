from __future__ import annotations

import csv

import pyarrow as pa
import pytest

from clv_jobs import contracts
from clv_jobs.currency import USD_PER_UNIT
from conftest import PROJECT_DIR


def test_currency_seed_matches_the_generator_rates():
    with open(PROJECT_DIR / "seeds" / "currency_rates.csv") as fh:
        seed = {row["currency_code"]: float(row["usd_per_unit"]) for row in csv.DictReader(fh)}
    assert seed == USD_PER_UNIT


def test_conform_names_the_missing_column():
    with pytest.raises(ValueError, match=r"raw.events: missing contract column\(s\) \['event_type'\]"):
        contracts.conform(
            pa.table(
                {
                    "event_id": [1],
                    "session_id": [1],
                    "customer_id": ["a"],
                    "event_timestamp": pa.array([0], pa.timestamp("us")),
                }
            ),
            "events",
        )


def test_conform_orders_and_casts():
    table = pa.table(
        {
            "customer_id": ["a"],
            "event_type": ["search"],
            "event_id": [1],
            "session_id": [2],
            "event_timestamp": pa.array([0], pa.timestamp("us")),
            "extra": [0],
        }
    )
    assert contracts.conform(table, "events").schema == contracts.EVENTS
