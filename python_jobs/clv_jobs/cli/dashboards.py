"""`clv-jobs dashboards`: publish the marts' snapshot the dashboards read, and serve them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.cli._common import app, lake_writer_lock
from clv_jobs.settings import load_settings

dashboards_app = typer.Typer(help="The dashboards on the score tables (Streamlit).", no_args_is_help=True)
app.add_typer(dashboards_app, name="dashboards")


def _app() -> Path:
    """dashboards/app.py of the project (CLV_DBT_PROJECT_DIR, default the current folder)."""
    return load_settings().dbt_project_dir / "dashboards" / "app.py"


def publish_if_duckdb(settings) -> None:
    """After a successful build on DuckDB: refresh the dashboards' snapshot (the caller holds
    the writer lock). PostgreSQL and Redshift are read directly, so nothing to do there."""
    from clv_jobs import dashboard_data

    if settings.dbt_target in dashboard_data.DUCKDB_TARGETS and Path(settings.duckdb_path).exists():
        path, tables = dashboard_data.publish_snapshot(settings.duckdb_path)
        typer.echo(f"dashboards: published {len(tables)} marts to {path}", err=True)


@dashboards_app.command("publish")
def publish() -> None:
    """Copy the marts the dashboards read into `<warehouse>.dashboards.duckdb` (DuckDB targets),
    holding the lake's writer lock so no build writes meanwhile."""
    settings = load_settings()
    from clv_jobs import dashboard_data

    if settings.dbt_target not in dashboard_data.DUCKDB_TARGETS:
        typer.echo(f"target {settings.dbt_target}: the dashboards read the warehouse directly; nothing to publish")
        return
    with lake_writer_lock():
        path, tables = dashboard_data.publish_snapshot(settings.duckdb_path)
    typer.echo(f"published {len(tables)} marts to {path}")


@dashboards_app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the three pages with Streamlit (offline: no usage statistics, no file watcher)."""
    app_path = _app()
    if not app_path.exists():
        raise FileNotFoundError(
            f"no dashboard app at {app_path}: run from the project folder or set CLV_DBT_PROJECT_DIR"
        )
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    typer.echo(f"dashboards on http://{address}:{port}/ (Ctrl-C stops)", err=True)
    # Become the server (exec), so stopping this process stops Streamlit: no orphaned server.
    path = os.pathsep.join(filter(None, [str(app_path.parent), os.environ.get("PYTHONPATH")]))
    os.execve(sys.executable, command, {**os.environ, "PYTHONPATH": path})


@dashboards_app.command("screenshot")
def screenshot(
    out: Annotated[Path, typer.Option(help="Folder for <page>.jpg.")] = Path("docs/images/dashboards"),
) -> None:
    """Start the dashboards, open every page in headless Chromium and save a screenshot of each
    (what the README shows); fails on a page that raised, a chart that did not draw, a console
    error or a request that left the machine."""
    from clv_jobs import dashboard_browser

    with dashboard_browser.serve() as url:
        views = dashboard_browser.browse(url, screenshot_dir=out)
    problems = [
        f"{view.title}: {what}"
        for view in views.values()
        for what in (
            *view.exceptions,
            *view.console_errors,
            *(f"request left the machine: {u}" for u in view.outside_requests),
            *([f"{view.charts - view.charts_drawn} chart(s) not drawn"] if view.charts_drawn < view.charts else []),
        )
    ]
    for view in views.values():
        typer.echo(
            f"{view.title}: {len(view.metrics)} headline numbers, {view.charts} charts, {len(view.tables)} tables"
        )
    if problems:
        raise RuntimeError("; ".join(problems))
    typer.echo(f"screenshots in {out}")
