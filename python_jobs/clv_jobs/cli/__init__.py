"""`clv-jobs`: one CLI, verbs as subcommands (STYLE §12), one module per group of verbs."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import typer

from clv_jobs.cli import dashboards, data, experiments, models, reports  # noqa: F401 (importing registers the commands)
from clv_jobs.cli._common import app

__all__ = ["app", "run"]


def run() -> None:
    """The `clv-jobs` entry point: expected failures (bad input, missing prerequisites, a failed
    dbt build) print one message and exit 1; anything else keeps its traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    started, clock, code, message = datetime.now(UTC).replace(tzinfo=None), time.monotonic(), 0, ""
    try:
        app()
    # AWS errors (no credentials or region, access denied, a bad S3 URI) say what to fix in one line.
    except (ValueError, RuntimeError, FileNotFoundError, BotoCoreError, ClientError) as exc:
        typer.echo(f"error: {exc}", err=True)
        code, message = 1, str(exc)
        raise SystemExit(1) from None
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    finally:
        _record(sys.argv[1:], code, message, started, time.monotonic() - clock)


def _record(argv: list[str], code: int, message: str, started, seconds: float) -> None:
    """One row of ml/pipeline_runs per pipeline command (what the operations dashboard shows).
    Exit 99 is `retrain-needed`'s "no" and a --help is no run."""
    from clv_jobs import pipeline_runs
    from clv_jobs.settings import load_settings

    if not argv or argv[0] not in pipeline_runs.RECORDED_COMMANDS or "--help" in argv:
        return
    status = "success" if code in (0, 99) else "error"
    row = pipeline_runs.command_row(argv, status, started, seconds, message or ("" if code == 0 else f"exit {code}"))
    try:
        lake_dir = load_settings().lake_dir
    except Exception:
        return
    pipeline_runs.record(lake_dir, [row], "clv-jobs", lambda m: typer.echo(m, err=True))


if __name__ == "__main__":
    run()
