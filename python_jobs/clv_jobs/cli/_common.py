"""What every `clv-jobs` command shares: the root app and its sub-apps, the common options,
and the helpers for the lake, the writer lock, progress and dates."""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.settings import load_settings

app = typer.Typer(
    help="clv-warehouse jobs: land and guard data, train and evaluate, score, monitor, backtest, erase.",
    no_args_is_help=True,
)
import_app = typer.Typer(help="Import a public data set into the lake's raw contract.", no_args_is_help=True)
app.add_typer(import_app, name="import")
bench_app = typer.Typer(help="Benchmarks: print time and peak memory figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
quarantine_app = typer.Typer(
    help="Files and rows kept out of the warehouse: list them, quarantine a partition, release a file.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

LakeOption = Annotated[
    Path | None, typer.Option("--lake", help="Lake folder (default: $CLV_LAKE_DIR or ./lake).", show_default=False)
]


class Backend(StrEnum):
    local = "local"
    sagemaker = "sagemaker"


BackendOption = Annotated[
    Backend,
    typer.Option(
        envvar="CLV_BACKEND",
        help="Run here, or as a SageMaker job (needs the CLV_SAGEMAKER_* settings: README, Going to production).",
    ),
]
WaitOption = Annotated[
    bool, typer.Option(help="SageMaker: wait for the job and finish here; --no-wait prints the job to --attach.")
]
AttachOption = Annotated[
    str | None, typer.Option(help="SageMaker: finish a job submitted with --no-wait (wait, then as local).")
]


def on_backend(command: str, backend: Backend, wait: bool, attach: str | None, local, submit, collect):
    """Run `local()`, or a SageMaker job: `submit()` it (or take `attach`), then `collect(job)`
    it, holding the lake's writer lock. None when the job was submitted with --no-wait (its name
    is printed)."""
    if backend is Backend.local:
        if attach:
            raise typer.BadParameter("--attach is for --backend sagemaker")
        with lake_writer_lock():
            return local()
    job = attach or submit()
    if not wait and not attach:
        typer.echo(f"submitted {job}; finish it with: clv-jobs {command} --backend sagemaker --attach {job}")
        return None
    with lake_writer_lock():
        return collect(job)


def lake_folder(lake: Path | None, create: bool = False) -> Path:
    """A local lake folder (the commands that write raw landings or read them with DuckDB); it
    must exist unless the command creates lakes (`create`: generate, import)."""
    from clv_jobs.lake import local_dir

    return local_dir(lake or load_settings().lake_dir, must_exist=not create)


def lake_writer_lock(lake: Path | str | None = None):
    """The lake's writer lock (python_jobs/clv_jobs/locking.py), for commands that write."""
    from clv_jobs.locking import writer_lock

    return writer_lock(lake or load_settings().lake_dir)


def progress(message: str) -> None:
    typer.echo(f"[{datetime.now():%H:%M:%S}] {message}", err=True)


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
