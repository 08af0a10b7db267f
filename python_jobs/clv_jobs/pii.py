"""The PII key: the salt of the keyed hashes that pseudonymize e-mail and phone in staging.

The salt never enters SQL text, so it is in no compiled model, view definition, manifest, run
result or log: dbt's SQL reads it from a one-row table, `private.pii_key`, which is written
here through a bound parameter. On DuckDB the dbt-duckdb plugin (`dbt_plugin.py`) writes it whenever dbt
connects; on PostgreSQL and Redshift `clv-jobs load-raw` / `clv-jobs pii-key` write it (grant
the private schema to the dbt role only).
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["DEV_SALT", "salt", "keyed_hash", "write_key_duckdb", "write_key_postgres"]

DEV_SALT = "clv-dev-salt-not-secret"
KEY_SCHEMA = "private"
KEY_TABLE = "pii_key"


def salt(target: str) -> str:
    """`CLV_PII_SALT`; without it the public dev salt, which only dev and CI targets may use."""
    value = os.environ.get("CLV_PII_SALT", "")
    if value:
        return value
    if target == "prod":
        raise ValueError("CLV_PII_SALT must be set for target prod: PII would be hashed with the public dev salt")
    return DEV_SALT


def keyed_hash(value: str, target: str) -> str:
    """The keyed hash staging computes (sha256 hex of salt || lower(trim(value)))."""
    return hashlib.sha256((salt(target) + value.strip().lower()).encode()).hexdigest()


def write_key_duckdb(con, target: str) -> None:
    con.execute(f"create schema if not exists {KEY_SCHEMA}")
    con.execute(f"create or replace table {KEY_SCHEMA}.{KEY_TABLE} (salt varchar)")
    con.execute(f"insert into {KEY_SCHEMA}.{KEY_TABLE} values (?)", [salt(target)])


def write_key_postgres(cur, target: str) -> None:
    cur.execute(f"create schema if not exists {KEY_SCHEMA}")
    cur.execute(f"create table if not exists {KEY_SCHEMA}.{KEY_TABLE} (salt varchar(256))")
    # Replaced in place, never dropped: staging's views depend on the table once dbt has built,
    # so a key rotation's drop would fail (PostgreSQL, Redshift without late binding).
    cur.execute(f"delete from {KEY_SCHEMA}.{KEY_TABLE}")
    cur.execute(f"insert into {KEY_SCHEMA}.{KEY_TABLE} values (%s)", (salt(target),))
