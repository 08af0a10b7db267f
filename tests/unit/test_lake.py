"""Lake writes replace a partition atomically."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clv_jobs import lake


def test_rewrite_replaces_the_partition(tmp_path):
    part = tmp_path / "scores" / "as_of_date=2024-01-31"
    lake.replace_partition(pa.table({"x": [1, 2]}), part)
    lake.replace_partition(pa.table({"x": [3]}), part)
    assert pq.read_table(part).column("x").to_pylist() == [3]
    assert [p.name for p in (tmp_path / "scores").iterdir()] == ["as_of_date=2024-01-31"]


def test_a_failed_write_leaves_the_old_partition(tmp_path, monkeypatch):
    part = tmp_path / "scores" / "as_of_date=2024-01-31"
    lake.replace_partition(pa.table({"x": [1, 2]}), part)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(lake.pq, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        lake.replace_partition(pa.table({"x": [9]}), part)
    monkeypatch.undo()
    assert pq.read_table(part).column("x").to_pylist() == [1, 2]
    assert [p.name for p in (tmp_path / "scores").iterdir()] == ["as_of_date=2024-01-31"]


def test_write_partitioned_splits_by_day_and_clears_stale_partitions(tmp_path):
    ts = pa.array([1_700_000_000_000_000, 1_700_100_000_000_000, 1_700_000_500_000_000], pa.timestamp("us"))
    table = pa.table({"at": ts, "v": [1, 2, 3]})
    (tmp_path / "t" / "ingest_date=1999-01-01").mkdir(parents=True)
    assert lake.write_partitioned(table, tmp_path / "t", "at") == 2
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert names == ["ingest_date=2023-11-14", "ingest_date=2023-11-16"]
    assert pq.read_table(tmp_path / "t" / names[0]).column("v").to_pylist() == [1, 3]


_WRITER = """
import sys, pyarrow as pa
from clv_jobs import lake
part, n = sys.argv[1], 0
while True:
    n += 1
    lake.replace_partition(pa.table({"x": list(range(n % 7, 50_000))}), part)
"""


def test_a_writer_killed_mid_write_leaves_a_readable_partition_and_nothing_readers_see(tmp_path):
    import subprocess
    import sys
    import time

    import duckdb

    part = tmp_path / "ml" / "scores" / "as_of_date=2024-01-31"
    lake.replace_partition(pa.table({"x": [1]}), part)
    for delay in (0.3, 0.45, 0.6, 0.75):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(part)])
        time.sleep(delay)
        writer.kill()  # SIGKILL: no finally block runs
        writer.wait()
        # Whatever the writer left lives in ml/_tmp/scores/, out of every reader's glob.
        glob = str(tmp_path / "ml" / "scores" / "*" / "*.parquet")
        with duckdb.connect() as con:
            con.execute(f"select count(*) from read_parquet('{glob}', hive_partitioning = true)").fetchall()
        assert lake.LakeRoot(tmp_path).partition_values("ml", "scores") in (["2024-01-31"], [])
        lake.sweep(tmp_path / "ml" / "scores")  # what the next write does first
        assert pq.read_table(part).num_rows >= 1  # the old or the new partition, whole
        assert list((tmp_path / "ml" / "_tmp" / "scores").iterdir()) == []


def test_a_backup_stranded_between_the_two_renames_is_put_back(tmp_path):
    import subprocess
    import sys

    part = tmp_path / "scores" / "as_of_date=2024-01-31"
    lake.replace_partition(pa.table({"x": [1, 2]}), part)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stranded = tmp_path / "_tmp" / "scores" / f"{dead.stdout.strip()}-{'0' * 32}-old-as_of_date=2024-01-31"
    stranded.parent.mkdir(parents=True, exist_ok=True)
    part.rename(stranded)
    lake.replace_partition(pa.table({"y": [0]}), tmp_path / "scores" / "as_of_date=2024-02-29")
    assert pq.read_table(part).column("x").to_pylist() == [1, 2]
    assert list(stranded.parent.iterdir()) == []


def test_readers_skip_hidden_folders_and_a_missing_lake_is_an_error(tmp_path):
    lake.replace_partition(pa.table({"x": [1]}), tmp_path / "ml" / "scores" / "as_of_date=2024-01-31")
    (tmp_path / "ml" / "scores" / ".tmp-as_of_date=2024-02-29").mkdir()
    (tmp_path / "ml" / "scores" / ".tmp-as_of_date=2024-02-29" / "part-0.parquet").write_bytes(b"")
    root = lake.LakeRoot(tmp_path)
    assert root.partition_values("ml", "scores") == ["2024-01-31"]
    assert root.read("ml", "scores")["x"].tolist() == [1]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lake.LakeRoot(tmp_path / "nowhere")
