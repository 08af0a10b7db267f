"""What the dashboards read, and from where: one query per panel over the published marts.

The warehouse is the dbt target's (`CLV_DBT_TARGET`): PostgreSQL (`ci_postgres`) and Redshift
(`prod`) are queried directly (their readers never block a writer). DuckDB allows one writer and
no reader beside it, so for DuckDB (`dev`, `ci`) the dashboards read a *snapshot* of the marts,
`<warehouse>.dashboards.duckdb`, published under the lake's writer lock after each successful
`clv-jobs dbt build` (and by `clv-jobs dashboards publish`): replaced atomically, so the app never
blocks dbt and never sees a half-built mart.

Every query is plain SQL that DuckDB, PostgreSQL and Redshift all run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "SNAPSHOT_TABLES",
    "DUCKDB_TARGETS",
    "Warehouse",
    "Filters",
    "snapshot_path",
    "publish_snapshot",
]

DUCKDB_TARGETS = frozenset({"dev", "ci"})

# The marts the pages read (schema, table); a mart not built yet is left out of the snapshot.
SNAPSHOT_TABLES = (
    ("marts", "dim_customer_clv"),
    ("marts", "rpt_clv_segments"),
    ("marts", "rpt_clv_distribution"),
    ("marts", "fct_tier_migration"),
    ("marts", "fct_model_evaluations"),
    ("marts", "fct_model_backtest"),
    ("marts", "fct_model_proxy"),
    ("marts", "fct_kpi_cohorts"),
    ("marts", "fct_model_decisions"),
    ("marts", "fct_feature_drift"),
    ("marts", "fct_monitor_runs"),
    ("marts", "fct_alerts"),
    ("marts", "fct_pipeline_runs"),
    ("marts", "fct_shadow_runs"),
    ("quality", "rpt_staging_rule_counts"),
    ("quality", "fct_quarantined_rows"),
    ("quality", "rpt_landing_days"),
)


def snapshot_path(duckdb_path: Path) -> Path:
    """The dashboards' snapshot of a DuckDB warehouse: beside it, `<name>.dashboards.duckdb`."""
    duckdb_path = Path(duckdb_path)
    return duckdb_path.with_name(f"{duckdb_path.stem}.dashboards.duckdb")


def publish_snapshot(duckdb_path: Path) -> tuple[Path, list[str]]:
    """Copy the marts the dashboards read into the snapshot file, atomically (write a temporary
    file, then rename over the old snapshot). Returns the snapshot and the tables copied. The
    caller holds the lake's writer lock, so no dbt build writes the warehouse meanwhile."""
    import duckdb

    from clv_jobs import warehouse

    target = snapshot_path(duckdb_path)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    with warehouse.connect_duckdb(duckdb_path) as source:
        present = {
            (schema, table)
            for schema, table in source.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    copied = []
    with duckdb.connect(str(partial)) as con:
        con.execute(f"attach '{Path(duckdb_path).resolve()}' as warehouse (read_only)")
        for schema, table in SNAPSHOT_TABLES:
            if (schema, table) not in present:
                continue
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} as select * from warehouse.{schema}.{table}")
            copied.append(f"{schema}.{table}")
        con.execute("detach warehouse")
    os.replace(partial, target)
    return target, copied


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Filters:
    """The customer-value page's filters: empty means every value."""

    countries: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def where(self) -> str:
        clauses = ["1 = 1"]
        if self.countries:
            clauses.append(f"country in ({', '.join(_quote(c) for c in self.countries)})")
        if self.channels:
            clauses.append(f"acquisition_channel in ({', '.join(_quote(c) for c in self.channels)})")
        return " and ".join(clauses)


class Warehouse:
    """The dashboards' connection: the DuckDB snapshot, PostgreSQL or Redshift, by dbt target."""

    def __init__(self, target: str, duckdb_path: Path | None = None, pg_dsn: str | None = None):
        self.target, self.duckdb_path, self.pg_dsn = target, duckdb_path, pg_dsn
        if target not in DUCKDB_TARGETS | {"ci_postgres", "prod"}:
            raise ValueError(f"dashboards: unsupported CLV_DBT_TARGET {target!r} (dev, ci, ci_postgres or prod)")

    @classmethod
    def from_settings(cls, settings) -> Warehouse:
        return cls(settings.dbt_target, settings.duckdb_path, settings.pg_dsn)

    @property
    def source(self) -> str:
        """What the pages say they read."""
        if self.target in DUCKDB_TARGETS:
            return f"DuckDB snapshot {snapshot_path(self.duckdb_path)}"
        return "PostgreSQL" if self.target == "ci_postgres" else "Redshift"

    def version(self) -> str:
        """Changes whenever the data may have: the snapshot's mtime (DuckDB), else a constant
        (the app's cache then expires by time)."""
        if self.target in DUCKDB_TARGETS:
            path = snapshot_path(self.duckdb_path)
            return str(path.stat().st_mtime_ns) if path.exists() else "missing"
        return self.target

    def tables(self) -> set[str]:
        """The `schema.table` names present (a page shows what is missing instead of failing)."""
        names = self.query(
            "select table_schema, table_name from information_schema.tables where table_schema in ('marts', 'quality')"
        )
        return {f"{s}.{t}" for s, t in zip(names["table_schema"], names["table_name"], strict=True)}

    def query(self, sql: str) -> pd.DataFrame:
        if self.target in DUCKDB_TARGETS:
            import duckdb

            path = snapshot_path(self.duckdb_path)
            if not path.exists():
                raise FileNotFoundError(
                    f"no dashboard snapshot at {path}: run `clv-jobs dashboards publish` (make dashboards does)"
                )
            with duckdb.connect(str(path), read_only=True) as con:
                return con.execute(sql).df()
        if self.target == "ci_postgres":
            from clv_jobs import warehouse

            return warehouse.postgres_query(self.pg_dsn, sql).to_pandas()
        from clv_jobs import redshift

        return redshift.query(sql)
