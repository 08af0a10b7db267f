"""`clv-jobs`: one CLI, verbs as subcommands (STYLE §12), one module per group of verbs."""

from __future__ import annotations

import typer

from clv_jobs.cli import data, models, reports  # noqa: F401 (importing registers the commands)
from clv_jobs.cli._common import app

__all__ = ["app", "run"]


def run() -> None:
    """The `clv-jobs` entry point: expected failures (bad input, missing prerequisites, a failed
    dbt build) print one message and exit 1; anything else keeps its traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        app()
    # AWS errors (no credentials or region, access denied, a bad S3 URI) say what to fix in one line.
    except (ValueError, RuntimeError, FileNotFoundError, BotoCoreError, ClientError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    run()
