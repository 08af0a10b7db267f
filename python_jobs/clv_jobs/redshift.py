"""Amazon Redshift (dbt target `prod`) from the jobs: one connection, built from the prod
profile's env vars with redshift-connector — the driver dbt-redshift itself uses — so the jobs
authenticate exactly as dbt does: a database password, or IAM (temporary credentials from the
Redshift API for a provisioned cluster or a Serverless workgroup).

The env vars (the README's table): CLV_REDSHIFT_HOST, CLV_REDSHIFT_PORT (5439),
CLV_REDSHIFT_DATABASE (clv), CLV_REDSHIFT_USER, CLV_REDSHIFT_PASSWORD (method `database`),
CLV_REDSHIFT_METHOD (`database` or `iam`), CLV_REDSHIFT_CLUSTER_ID (IAM on a provisioned
cluster), CLV_REDSHIFT_REGION, CLV_REDSHIFT_IAM_PROFILE, CLV_REDSHIFT_SSLMODE (require).
Installed by the `redshift` extra (`make setup` installs every extra)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

__all__ = ["connect", "connect_kwargs", "query", "unload"]

METHODS = ("database", "iam")
# dbt-redshift's translation of the libpq-style sslmode (dbt/adapters/redshift/connections.py):
# every mode but disable verifies the server's certificate authority.
SSL_MODES = {
    "disable": None,
    "allow": "verify-ca",
    "prefer": "verify-ca",
    "require": "verify-ca",
    "verify-ca": "verify-ca",
    "verify-full": "verify-full",
}


def connect_kwargs(env: Mapping[str, str] = os.environ, also_required: tuple[str, ...] = ()) -> dict:
    """redshift_connector.connect's arguments from the prod profile's env vars; fails naming
    what is missing or wrong."""
    method = env.get("CLV_REDSHIFT_METHOD", "database") or "database"
    if method not in METHODS:
        raise ValueError(f"CLV_REDSHIFT_METHOD={method!r}: one of {', '.join(METHODS)} (as the prod profile)")
    host = env.get("CLV_REDSHIFT_HOST", "")
    serverless = "redshift-serverless" in host
    needed = ["CLV_REDSHIFT_HOST", "CLV_REDSHIFT_USER", *also_required]
    if method == "database":
        needed.append("CLV_REDSHIFT_PASSWORD")
    elif not serverless:
        needed.append("CLV_REDSHIFT_CLUSTER_ID")  # a Serverless workgroup is read from its host
    missing = [name for name in needed if not env.get(name)]
    if missing:
        raise ValueError(f"connecting to Redshift (target prod, method {method}) needs the env vars {missing}")
    sslmode = env.get("CLV_REDSHIFT_SSLMODE", "require") or "require"
    if sslmode not in SSL_MODES:
        raise ValueError(f"CLV_REDSHIFT_SSLMODE={sslmode!r}: one of {sorted(SSL_MODES)}")
    kwargs = {
        "host": host,
        "port": int(env.get("CLV_REDSHIFT_PORT", "5439") or 5439),
        "database": env.get("CLV_REDSHIFT_DATABASE", "clv") or "clv",
        "region": env.get("CLV_REDSHIFT_REGION") or None,
        "is_serverless": serverless,
        "ssl": SSL_MODES[sslmode] is not None,
        **({"sslmode": SSL_MODES[sslmode]} if SSL_MODES[sslmode] else {}),
    }
    if method == "database":
        return kwargs | {"user": env["CLV_REDSHIFT_USER"], "password": env["CLV_REDSHIFT_PASSWORD"]}
    # IAM: the connector asks the Redshift API for a temporary password for db_user (boto3's
    # credential chain, or the named profile), as dbt-redshift's `method: iam` does.
    return kwargs | {
        "iam": True,
        "user": "",
        "password": "",
        "db_user": env["CLV_REDSHIFT_USER"],
        "cluster_identifier": None if serverless else env["CLV_REDSHIFT_CLUSTER_ID"],
        "profile": env.get("CLV_REDSHIFT_IAM_PROFILE") or None,
    }


def connect(also_required: tuple[str, ...] = ()):
    """A DB-API connection to Redshift (redshift_connector; commit explicitly)."""
    try:
        import redshift_connector
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "target prod needs the redshift extra: `make setup` (or `uv sync --locked --extra redshift`)"
        ) from error
    return redshift_connector.connect(**connect_kwargs(os.environ, also_required))


def query(sql: str) -> pd.DataFrame:
    """A small query's result as a pandas DataFrame (the dashboards' reads)."""
    connection = connect()
    try:
        with connection.cursor() as cur:
            cur.execute(sql)
            names = [column[0] for column in cur.description]
            rows = cur.fetchall()
    finally:
        connection.close()
    return pd.DataFrame([list(row) for row in rows], columns=names)


def unload(sql: str) -> pa.Table:
    """A mart read in bulk: UNLOAD to `CLV_UNLOAD_S3_URI/<uuid>/` with
    `CLV_REDSHIFT_UNLOAD_ROLE_ARN`, then the Parquet read back (`s3.read_unload`)."""
    from clv_jobs import s3

    connection = connect(("CLV_UNLOAD_S3_URI", "CLV_REDSHIFT_UNLOAD_ROLE_ARN"))
    try:
        prefix = f"{os.environ['CLV_UNLOAD_S3_URI'].rstrip('/')}/{uuid.uuid4().hex}/"
        return s3.read_unload(connection, sql, prefix, os.environ["CLV_REDSHIFT_UNLOAD_ROLE_ARN"])
    finally:
        connection.close()
