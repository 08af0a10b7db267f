"""The lake on S3 (production): partition writes, prefix reads, and Redshift UNLOAD reads.

The same contract as `lake` on a local folder: one partition is one Parquet object,
`<table>/<key>=<value>/part-0.parquet`. A PUT replaces an object atomically, so rewriting that
one key replaces the partition atomically (readers see the old or the new file, never half);
any other object left in the partition (an older layout) is deleted after the PUT.

`CLV_S3_ENDPOINT_URL` points the client at an S3-compatible server (the tests run moto's on
127.0.0.1); unset, boto3 talks to AWS with the usual credential chain.
"""

from __future__ import annotations

import io
import os
import tempfile
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "client",
    "split_uri",
    "put_parquet",
    "replace_partition",
    "read_prefix",
    "list_partitions",
    "unload_sql",
    "read_unload",
]

PART_NAME = "part-0.parquet"


def client(endpoint_url: str | None = None):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url or os.environ.get("CLV_S3_ENDPOINT_URL") or None)


def split_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// URI; fails naming the URI otherwise."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix URI")
    return parsed.netloc, parsed.path.lstrip("/")


def _objects(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def put_parquet(table: pa.Table, uri: str, s3=None) -> None:
    """`table` as one Parquet object at `uri`, through a temporary file and boto3's managed
    upload: multipart when large (no 5 GB single-PUT limit, no in-memory copy of the file).
    Completing the upload replaces the object atomically, as a PUT does."""
    s3 = s3 or client()
    bucket, key = split_uri(uri)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "part.parquet")
        pq.write_table(table, path, compression="zstd")
        s3.upload_file(path, bucket, key)


def replace_partition(table: pa.Table, partition_uri: str, s3=None) -> str:
    """Write `table` as the partition's only object (see the module docstring); returns its URI."""
    s3 = s3 or client()
    bucket, prefix = split_uri(partition_uri.rstrip("/") + "/")
    put_parquet(table, f"s3://{bucket}/{prefix}{PART_NAME}", s3)
    stale = [key for key in _objects(s3, bucket, prefix) if key != prefix + PART_NAME]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
    return f"s3://{bucket}/{prefix}{PART_NAME}"


def read_prefix(uri: str, s3=None) -> pa.Table:
    """Every Parquet object under `uri`, concatenated (one listing, one GET per object)."""
    s3 = s3 or client()
    bucket, prefix = split_uri(uri)
    keys = sorted(k for k in _objects(s3, bucket, prefix) if k.endswith(".parquet"))
    if not keys:
        raise FileNotFoundError(f"no Parquet objects under {uri}")
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())) for k in keys]
    return pa.concat_tables(tables, promote_options="default")


def list_partitions(table_uri: str, s3=None) -> list[str]:
    """Partition values (`key=value` folder names) under a lake table, sorted."""
    s3 = s3 or client()
    bucket, prefix = split_uri(table_uri.rstrip("/") + "/")
    values = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(prefix) :].rstrip("/")
            if "=" in name:
                values.add(name.split("=", 1)[1])
    return sorted(values)


def unload_sql(query: str, s3_uri: str, iam_role: str) -> str:
    """Redshift UNLOAD of `query` to Parquet files under `s3_uri` (replacing what is there)."""
    split_uri(s3_uri)
    quoted = query.replace("'", "''")
    return (
        f"unload ('{quoted}') to '{s3_uri.rstrip('/')}/' iam_role '{iam_role}' "
        "format as parquet allowoverwrite cleanpath"
    )


def read_unload(connection, query: str, s3_uri: str, iam_role: str, s3=None) -> pa.Table:
    """Bulk read from Redshift: UNLOAD `query` to S3 on `connection` (DB-API), then read the
    files back. Many times faster than fetching rows over the wire for millions of rows."""
    with connection.cursor() as cur:
        cur.execute(unload_sql(query, s3_uri, iam_role))
    connection.commit()
    return read_prefix(s3_uri, s3)
