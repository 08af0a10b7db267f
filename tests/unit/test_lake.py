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
