"""The as-of calendar: as-of dates are month ends (dbt's spine uses the same rule, in the macro
`month_end_on_or_before`). Standard library only: the Airflow DAGs import this module from their
own environment."""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["is_month_end", "month_end_on_or_before", "month_ends"]


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def month_end_on_or_before(day: date) -> date:
    """The last month end on or before `day` (a month end is its own)."""
    return day if is_month_end(day) else day.replace(day=1) - timedelta(days=1)


def month_ends(first: date, last: date) -> list[date]:
    """Every month end in [first, last]."""
    ends, current = [], month_end_on_or_before(last)
    while current >= first:
        ends.append(current)
        current = current.replace(day=1) - timedelta(days=1)
    return ends[::-1]
