"""Typed settings from ``CLV_*`` environment variables. Read when called, never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Where things live. Every field has an env var; defaults are the embedded dev setup."""

    lake_dir: Path | str  # a folder, or an s3://bucket/prefix URI (kept a string: Path would drop a slash)
    duckdb_path: Path
    dbt_target: str
    dbt_project_dir: Path
    dbt_target_path: Path  # where dbt wrote manifest.json (the feature list comes from it)
    pg_dsn: str
    reports_dir: Path


def _lake_location(value: str) -> Path | str:
    return value.rstrip("/") if value.startswith("s3://") else Path(value)


def load_settings() -> Settings:
    project_dir = Path(os.environ.get("CLV_DBT_PROJECT_DIR", ".")).resolve()
    pg = {
        "host": os.environ.get("CLV_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("CLV_PG_PORT", "5432"),
        "user": os.environ.get("CLV_PG_USER", "clv"),
        "password": os.environ.get("CLV_PG_PASSWORD", "clv"),
        "dbname": os.environ.get("CLV_PG_DATABASE", "clv_ci"),
    }
    return Settings(
        lake_dir=_lake_location(os.environ.get("CLV_LAKE_DIR", "lake")),
        duckdb_path=Path(os.environ.get("CLV_DUCKDB_PATH", "clv.duckdb")),
        dbt_target=os.environ.get("CLV_DBT_TARGET", "dev"),
        dbt_project_dir=project_dir,
        dbt_target_path=project_dir / os.environ.get("CLV_DBT_TARGET_PATH", "target"),
        pg_dsn=" ".join(f"{k}={v}" for k, v in pg.items()),
        reports_dir=Path(os.environ.get("CLV_REPORTS_DIR", "reports")),
    )
