"""What the operations dashboard reads about the pipeline itself: one row per step run, landed
as `ml/pipeline_runs` (one partition per invocation, so concurrent writers never collide).

Two sources: each `clv-jobs` pipeline command (its duration and outcome) and each node of a dbt
invocation run through `clv-jobs dbt` (dbt's own `run_results.json`: status, failures, timing).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from clv_jobs import ml_contracts

__all__ = ["RECORDED_COMMANDS", "command_row", "dbt_rows", "land", "read_run_results", "run_results_path", "record"]

# The pipeline's steps; help, summaries, contracts and benchmarks are not runs of the pipeline.
RECORDED_COMMANDS = frozenset(
    {
        "generate",
        "import",
        "check-landing",
        "load-raw",
        "load-ml",
        "register-partitions",
        "train",
        "evaluate",
        "score",
        "monitor",
        "retrain-needed",
        "shadow",
        "approve",
        "promote",
        "rollback",
        "backtest",
        "erase",
        "dbt",
    }
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Commands whose first argument names the step (`import cdnow`, `dbt build`).
_TWO_WORD = frozenset({"import", "dbt"})


def command_row(command: list[str], status: str, started_at: datetime, seconds: float, message: str = "") -> dict:
    """The row of one `clv-jobs` command run (`command`: its arguments; `status`: success or
    error); the step is the command, e.g. `score` or `dbt build`."""
    words = command[:2] if command[0] in _TWO_WORD and len(command) > 1 else command[:1]
    return {
        "tool": "clv-jobs",
        "command": " ".join(command)[:256],
        "step_name": " ".join(words),
        "step_kind": "command",
        "status": status,
        "failures": 0 if status == "success" else 1,
        "message": message[:4096],
        "started_at": started_at,
        "duration_seconds": float(seconds),
        "recorded_at": _now(),
    }


def dbt_rows(run_results: dict, command: list[str]) -> list[dict]:
    """One row per node of a dbt invocation's `run_results.json` (status as dbt reports it:
    success, error, skipped, pass, fail, warn; `failures`: a test's failing rows)."""
    rows = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]
        started = next((t.get("started_at") for t in result.get("timing", []) if t.get("name") == "execute"), None)
        rows.append(
            {
                "tool": "dbt",
                "command": " ".join(command)[:256],
                "step_name": unique_id[:256],
                "step_kind": unique_id.split(".")[0],
                "status": str(result.get("status")),
                "failures": int(result.get("failures") or 0),
                "message": str(result.get("message") or "")[:4096],
                "started_at": _parse(started) or _parse(run_results.get("metadata", {}).get("generated_at")),
                "duration_seconds": float(result.get("execution_time") or 0.0),
                "recorded_at": _now(),
            }
        )
    return rows


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def run_results_path(dbt_args: list[str]) -> Path:
    """Where the dbt invocation given by `dbt_args` writes run_results.json."""
    target = os.environ.get("DBT_TARGET_PATH", "target")
    if "--target-path" in dbt_args:
        target = dbt_args[dbt_args.index("--target-path") + 1]
    return Path(target) / "run_results.json"


def land(lake_dir, rows: list[dict], tool: str) -> str:
    """Write `rows` as a new partition of ml/pipeline_runs; returns its run_id."""
    run_id = f"{tool}-{_now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    ml_contracts.write(lake_dir, "pipeline_runs", run_id, rows)
    return run_id


def read_run_results(path: Path) -> dict | None:
    """A run_results.json, or None when the invocation wrote none (e.g. dbt failed to parse)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def record(lake_dir, rows: list[dict], tool: str, warn) -> None:
    """Land `rows`; a lake that cannot take them is reported through `warn`, never raised: the
    record of a step must not fail the step."""
    if not rows:
        return
    try:
        if not str(lake_dir).startswith("s3://") and not Path(lake_dir).is_dir():
            return
        land(lake_dir, rows, tool)
    except Exception as exc:
        warn(f"warning: {tool} run not recorded in ml/pipeline_runs: {exc}")
