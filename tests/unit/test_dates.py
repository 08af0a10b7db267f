"""The as-of calendar: month ends, the same rule as dbt's `month_end_on_or_before` macro."""

from __future__ import annotations

from datetime import date

import pytest

from clv_jobs import dates


def test_month_ends():
    assert dates.month_ends(date(2024, 1, 15), date(2024, 3, 31)) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
    ]
    assert dates.month_ends(date(2024, 1, 1), date(2024, 1, 30)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 12, 31), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2024, 12, 31)),
        (date(2024, 3, 15), date(2024, 2, 29)),
        (date(2023, 3, 1), date(2023, 2, 28)),
    ],
    ids=["month-end-is-its-own", "new-year", "leap-february", "plain-february"],
)
def test_month_end_on_or_before(day, expected):
    assert dates.month_end_on_or_before(day) == expected
    assert dates.is_month_end(expected)
