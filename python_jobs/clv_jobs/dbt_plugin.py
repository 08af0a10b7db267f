"""The dbt-duckdb plugin named in profiles.yml: writes the PII key into `private.pii_key` on
every dbt connection to the DuckDB file (`pii.py` says why the key is never in SQL text). A
module of its own, so the jobs that hash ids (erase, check-landing) never import dbt."""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

from clv_jobs import pii

__all__ = ["Plugin"]


class Plugin(BasePlugin):
    """Writes `private.pii_key` on every dbt connection to the DuckDB file."""

    def configure_connection(self, conn) -> None:
        pii.write_key_duckdb(conn, os.environ.get("CLV_DBT_TARGET", "dev"))
