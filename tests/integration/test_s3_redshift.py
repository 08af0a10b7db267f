"""The production lake's S3 code against a local S3-compatible server (moto's, on 127.0.0.1),
and the Redshift Spectrum SQL that the dbt macros generate (printed on non-Redshift targets)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv_jobs import s3
from conftest import BIN, PROJECT_DIR, run_dbt


@pytest.fixture(scope="module")
def s3_endpoint(moto_server):
    return moto_server.url


@pytest.fixture()
def bucket(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CLV_S3_ENDPOINT_URL", s3_endpoint)
    client = s3.client()
    name = f"lake-{time.time_ns()}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name, client


def _table(n: int, start: int = 0) -> pa.Table:
    return pa.table({"customer_id": [f"C{i}" for i in range(start, start + n)], "value": [float(i) for i in range(n)]})


def test_a_partition_write_replaces_the_partition(bucket):
    name, client = bucket
    partition = f"s3://{name}/lake/ml/scores/as_of_date=2024-12-31"
    client.put_object(Bucket=name, Key="lake/ml/scores/as_of_date=2024-12-31/old-layout.parquet", Body=b"stale")
    s3.replace_partition(_table(5), partition, client)
    s3.replace_partition(_table(3, start=100), partition, client)  # a rerun: replaces, never appends
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name, Prefix="lake/ml/scores/")["Contents"]]
    assert keys == ["lake/ml/scores/as_of_date=2024-12-31/part-0.parquet"]
    back = s3.read_prefix(partition, client)
    assert back.column("customer_id").to_pylist() == ["C100", "C101", "C102"]


def test_list_partitions_and_read_a_whole_table(bucket):
    name, client = bucket
    for day, n in (("2024-11-30", 2), ("2024-12-31", 4)):
        s3.replace_partition(_table(n), f"s3://{name}/lake/ml/scores/as_of_date={day}", client)
    assert s3.list_partitions(f"s3://{name}/lake/ml/scores", client) == ["2024-11-30", "2024-12-31"]
    assert len(s3.read_prefix(f"s3://{name}/lake/ml/scores/", client)) == 6


def test_unload_sql_and_reading_what_unload_writes(bucket):
    name, client = bucket
    sql = s3.unload_sql(
        "select * from marts.fct_customer_features where as_of_date = '2024-12-31'",
        f"s3://{name}/unload/fct_customer_features",
        "arn:aws:iam::123456789012:role/clv-redshift-unload",
    )
    assert sql == (
        "unload ('select * from marts.fct_customer_features where as_of_date = ''2024-12-31''') "
        f"to 's3://{name}/unload/fct_customer_features/' "
        "iam_role 'arn:aws:iam::123456789012:role/clv-redshift-unload' format as parquet allowoverwrite cleanpath"
    )
    # UNLOAD writes one file per slice, named <slice>_part_<n>.parquet: the reader takes them all.
    for slice_number in range(3):
        buffer = pa.BufferOutputStream()
        pq.write_table(_table(10, start=10 * slice_number), buffer)
        client.put_object(
            Bucket=name,
            Key=f"unload/fct_customer_features/{slice_number:04d}_part_00.parquet",
            Body=buffer.getvalue().to_pybytes(),
        )
    table = s3.read_prefix(f"s3://{name}/unload/fct_customer_features/", client)
    assert sorted(table.column("customer_id").to_pylist()) == sorted(f"C{i}" for i in range(30))
    with pytest.raises(FileNotFoundError, match="no Parquet objects"):
        s3.read_prefix(f"s3://{name}/unload/nothing/", client)
    with pytest.raises(ValueError, match="not an s3://"):
        s3.unload_sql("select 1", "/tmp/x", "arn")


def test_register_partitions_lists_s3_and_prints_the_spectrum_sql(bucket, tmp_path):
    name, client = bucket
    for key in ("raw/transactions/ingest_date=2024-12-30", "raw/transactions/ingest_date=2024-12-31"):
        s3.replace_partition(_table(1), f"s3://{name}/lake/{key}", client)
    s3.replace_partition(_table(1), f"s3://{name}/lake/ml/scores/as_of_date=2024-12-31", client)
    env = {**os.environ, "CLV_DUCKDB_PATH": str(tmp_path / "dry.duckdb"), "DBT_TARGET_PATH": str(tmp_path / "t")}
    proc = subprocess.run(
        [str(BIN / "clv-jobs"), "register-partitions", "--lake-uri", f"s3://{name}/lake", "--target", "ci"],
        cwd=PROJECT_DIR,
        env={**env, "DBT_LOG_PATH": str(tmp_path / "logs")},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    statements = [s.strip() for s in proc.stdout.split(";") if "alter table" in s]
    assert len(statements) == 3
    assert statements[0].endswith(
        "alter table raw.transactions add if not exists\npartition (ingest_date = '2024-12-30')\n"
        f"location 's3://{name}/lake/raw/transactions/ingest_date=2024-12-30/'"
    )
    assert f"location 's3://{name}/lake/ml/scores/as_of_date=2024-12-31/'" in statements[2]
    assert "ml_landing.scores" in statements[2]


def test_external_tables_follow_the_contracts(tmp_path):
    """Every raw contract column, in order, in the Spectrum DDL; the landing ledger and the ML tables too."""
    from clv_jobs import contracts, landing, ml_contracts

    args = {"lake_uri": "s3://clv-lake/lake", "glue_database": "clv", "iam_role": "arn:aws:iam::1:role/spectrum"}
    env = {"CLV_DUCKDB_PATH": str(tmp_path / "dry.duckdb")}
    result = run_dbt(["run-operation", "create_lake_external_tables", "--args", json.dumps(args)], env, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    ddl = {s.split("(")[0].split()[-1]: s for s in result.output.split(";") if "create external table" in s}
    assert set(ddl) == {
        *(f"raw.{name}" for name in contracts.RAW_SCHEMAS),
        "raw.landed_files",
        *(f"ml_landing.{t}" for t in ml_contracts.ML_TABLES),
    }
    for name, schema in contracts.RAW_SCHEMAS.items():
        columns = [line.split('"')[1] for line in ddl[f"raw.{name}"].splitlines() if line.strip().startswith('"')]
        assert columns == [field.name.lower() for field in schema]
        assert "partitioned by (ingest_date date)" in ddl[f"raw.{name}"]
        assert f"location 's3://clv-lake/lake/raw/{name}/'" in ddl[f"raw.{name}"]
    ledger = [line.split('"')[1] for line in ddl["raw.landed_files"].splitlines() if line.strip().startswith('"')]
    assert ledger == landing.LEDGER_SCHEMA.names
    assert "partitioned by" not in ddl["raw.landed_files"]
    assert "location 's3://clv-lake/lake/landing/files/'" in ddl["raw.landed_files"]
    assert "create external schema if not exists raw\nfrom data catalog database 'clv_raw'" in result.output
    for name, table in ml_contracts.ML_TABLES.items():
        columns = [
            line.split('"')[1] for line in ddl[f"ml_landing.{name}"].splitlines() if line.strip().startswith('"')
        ]
        assert columns == table.column_names
        assert f"partitioned by ({table.partition[0]} {table.partition[1]})" in ddl[f"ml_landing.{name}"]


def test_the_lake_root_behaves_the_same_on_a_folder_and_on_s3(bucket, tmp_path):
    from clv_jobs.lake import LakeRoot, local_dir

    name, _ = bucket
    (tmp_path / "lake").mkdir()
    for root in (LakeRoot(tmp_path / "lake"), LakeRoot(f"s3://{name}/lake/")):
        assert not root.exists("ml", "scores") and root.partition_values("ml", "scores") == []
        root.write_partition(_table(2), "ml", "scores", "as_of_date=2024-11-30")
        root.write_partition(_table(9), "ml", "scores", "as_of_date=2024-12-31")
        root.write_partition(_table(3, start=50), "ml", "scores", "as_of_date=2024-12-31")  # replaces
        assert root.exists("ml", "scores", "as_of_date=2024-12-31")
        assert root.partition_values("ml", "scores") == ["2024-11-30", "2024-12-31"]
        assert root.read("ml", "scores", "as_of_date=2024-12-31")["customer_id"].tolist() == ["C50", "C51", "C52"]
        assert len(root.read("ml", "scores")) == 5 and list(root.read("ml", "scores").columns) == [
            "customer_id",
            "value",
        ]
    with pytest.raises(ValueError, match="needs a local lake folder"):
        local_dir(f"s3://{name}/lake")
