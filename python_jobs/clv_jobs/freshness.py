"""Source freshness as a gate: run `dbt source freshness` on the landings, judge dbt's
`sources.json`, and say which source is stale in one line each.

The nightly DAG runs it before the build and scoring (`clv-jobs freshness --as-of-date {{ ds }}`):
an error-level source stops the run with a high-tier alert naming it; a warning is a low-tier
alert and the run goes on. "Now" is the run's logical date (the var `clv_freshness_as_of`), so a
backfill judges the landings as they stood on its day. Last, after publishing, it checks what the
night itself landed (`--ml`: scores, drift, monitor runs, pipeline runs), so published marts that
fell behind raise the same alerts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

__all__ = ["LANDING_SOURCES", "ML_SOURCES", "SourceFreshness", "freshness_vars", "read_sources_json", "alerts_for"]

# The raw landings and the guard's ledger, checked before the build and scoring.
LANDING_SOURCES = ("source:shop", "source:web", "source:crm", "source:landing")
# What the nightly run lands itself, checked after it publishes (limits in _ml__sources.yml).
ML_SOURCES = ("source:ml",)
# A source with no rows, or only the empty placeholder file an importer writes (ingest date
# 1970-01-01 or 0001-01-01; CDNOW has no clickstream): absent, not stale. It warns.
NEVER_LANDED = "never landed"
PLACEHOLDER_BEFORE = "1971-01-01"


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # e.g. shop.transactions
    status: str  # pass, warn, error, runtime error, or NEVER_LANDED
    max_loaded_at: str | None
    age_days: float | None
    warn_after: str | None
    error_after: str | None

    def line(self) -> str:
        if self.status == "runtime error":
            return f"{self.source}: freshness could not be read ({self.max_loaded_at})"
        if self.status == NEVER_LANDED:
            return f"{self.source}: nothing has landed yet"
        limit = self.error_after if self.status == "error" else self.warn_after
        age = f"{self.age_days:.1f} days old" if self.age_days >= 0 else "after the as-of time"
        return f"{self.source}: last landing {self.max_loaded_at}, {age} ({self.status}: limit {limit})"


def freshness_vars(as_of_date: date | None) -> dict:
    """dbt vars judging freshness at the end of `as_of_date` (the landings of that day count as
    on time), or at the warehouse's current time when None."""
    if as_of_date is None:
        return {}
    end_of_day = datetime.combine(as_of_date + timedelta(days=1), datetime.min.time())
    return {"clv_freshness_as_of": f"{end_of_day:%Y-%m-%d %H:%M:%S}"}


def _limits(criteria: dict) -> tuple[str | None, str | None]:
    """(warn limit, error limit) as "2 days", None where unset."""
    out = []
    for key in ("warn_after", "error_after"):
        limit = criteria.get(key) or {}
        out.append(f"{limit['count']} {limit['period']}s" if limit.get("count") else None)
    return out[0], out[1]


def read_sources_json(path: Path) -> list[SourceFreshness]:
    """One entry per source dbt checked, the stalest first, then by name (dbt's own order
    depends on which thread finished first)."""
    results = json.loads(Path(path).read_text())["results"]
    out = []
    for result in results:
        name = result["unique_id"].split(".", 2)[-1]
        if result["status"] == "runtime error":
            out.append(SourceFreshness(name, "runtime error", result.get("error"), None, None, None))
            continue
        criteria = result.get("criteria") or {}
        loaded = result.get("max_loaded_at")
        if not loaded or loaded[:10] < PLACEHOLDER_BEFORE:
            out.append(SourceFreshness(name, NEVER_LANDED, None, None, *_limits(criteria)))
            continue
        out.append(
            SourceFreshness(
                name,
                result["status"],
                loaded[:19].replace("T", " "),
                result["max_loaded_at_time_ago_in_s"] / 86400,
                *_limits(criteria),
            )
        )
    order = {"runtime error": 0, "error": 1, "warn": 2, NEVER_LANDED: 3, "pass": 4}
    return sorted(out, key=lambda s: (order.get(s.status, 0), -(s.age_days or 0), s.source))


def alerts_for(results: list[SourceFreshness], consequence: str = "scoring stopped"):
    """A high-tier alert naming every stale (error) source and what it means, a low-tier one for
    warnings."""
    from clv_jobs.alerts import Alert

    stale = [r for r in results if r.status in ("error", "runtime error")]
    late = [r for r in results if r.status in ("warn", NEVER_LANDED)]
    alerts = []
    if stale:
        alerts.append(
            Alert("high", "source_stale", f"stale source, {consequence}: " + "; ".join(r.line() for r in stale))
        )
    if late:
        alerts.append(Alert("low", "source_late", "late source: " + "; ".join(r.line() for r in late)))
    return alerts
