"""The lake: where raw landings and ML outputs live as Hive-partitioned Parquet.

Every write replaces one partition atomically: files go to a temporary sibling folder which
is then renamed over the partition, so a rerun changes nothing and a crash leaves the old
partition in place (DESIGN §3). On S3 the partition is one object, replaced by one PUT (`s3`).

`LakeRoot` is what the jobs read and write the ML landing through: the same calls on a local
folder (dev) and on `s3://bucket/prefix` (production, `CLV_LAKE_DIR=s3://…`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["replace_partition", "write_partitioned", "read_table", "raw_dir", "LakeRoot", "local_dir"]


def local_dir(root: str | Path) -> Path:
    """The lake as a local folder, for the commands that only work on one (generate, import,
    backtest, load-raw, load-ml); fails naming the setting when it is an S3 URI."""
    if str(root).startswith("s3://"):
        raise ValueError(f"CLV_LAKE_DIR={root}: this command needs a local lake folder (use --lake or CLV_LAKE_DIR)")
    return Path(root)


class LakeRoot:
    """A lake root (a folder or s3://bucket/prefix); paths below it are given as parts."""

    def __init__(self, root: str | Path):
        self.root = str(root).rstrip("/")
        self.is_s3 = self.root.startswith("s3://")

    def uri(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def write_partition(self, table: pa.Table, *parts: str) -> str:
        """Replace the partition at `parts` (e.g. "ml", "scores", "as_of_date=2024-12-31")."""
        if self.is_s3:
            from clv_jobs import s3

            return s3.replace_partition(table, self.uri(*parts))
        return str(replace_partition(table, Path(self.root, *parts)))

    def exists(self, *parts: str) -> bool:
        if self.is_s3:
            from clv_jobs import s3

            bucket, prefix = s3.split_uri(self.uri(*parts) + "/")
            return s3.client().list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0
        return Path(self.root, *parts).exists()

    def read(self, *parts: str) -> pd.DataFrame:
        """Every Parquet file under `parts` (partition keys are not added as columns)."""
        if self.is_s3:
            from clv_jobs import s3

            return s3.read_prefix(self.uri(*parts)).to_pandas()
        path = Path(self.root, *parts)
        files = sorted(f for f in path.rglob("*.parquet") if not any(p.startswith(".") for p in f.parts[-3:]))
        if not files:
            raise FileNotFoundError(f"no Parquet files under {path}")
        return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default").to_pandas()

    def partition_values(self, *parts: str) -> list[str]:
        """Values of the `key=value` partitions directly under `parts`, sorted."""
        if self.is_s3:
            from clv_jobs import s3

            return s3.list_partitions(self.uri(*parts))
        path = Path(self.root, *parts)
        if not path.exists():
            return []
        return sorted(p.name.split("=", 1)[1] for p in path.iterdir() if p.is_dir() and "=" in p.name)


def raw_dir(lake: Path, name: str) -> Path:
    """Folder of raw table `name` in the lake."""
    return Path(lake) / "raw" / name


def replace_partition(table: pa.Table, partition_dir: Path, file_name: str = "part-0.parquet") -> Path:
    """Write `table` as the only file of `partition_dir`, replacing what was there atomically."""
    partition_dir = Path(partition_dir)
    partition_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = partition_dir.parent / f".tmp-{partition_dir.name}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        pq.write_table(table, tmp / file_name, compression="zstd")
        old = None
        if partition_dir.exists():
            old = partition_dir.parent / f".old-{partition_dir.name}-{uuid.uuid4().hex}"
            os.replace(partition_dir, old)
        os.replace(tmp, partition_dir)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return partition_dir


def write_partitioned(
    table: pa.Table,
    table_dir: Path,
    date_column: str,
    partition_key: str = "ingest_date",
    clear: bool = True,
) -> int:
    """Split `table` by the calendar date of `date_column` into `partition_key=YYYY-MM-DD/` folders.

    Rows keep their order within a partition. With `clear`, partitions of an earlier landing
    that this one does not write are removed, so a regenerated lake holds only this data.
    Returns the number of partitions written.
    """
    table_dir = Path(table_dir)
    dates = pc.cast(pc.cast(table.column(date_column), pa.timestamp("us")), pa.date32())
    day_numbers = dates.to_numpy(zero_copy_only=False).astype("datetime64[D]").astype(np.int64)
    order = np.argsort(day_numbers, kind="stable")
    sorted_days = day_numbers[order]
    boundaries = np.flatnonzero(np.diff(sorted_days)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sorted_days)]])
    # Already in date order (the generator writes so) -> slice without copying.
    sorted_table = table if np.all(order[1:] > order[:-1]) else table.take(order)
    written = set()
    for start, end in zip(starts, ends, strict=True):
        if end == start:
            continue
        day = np.datetime64(int(sorted_days[start]), "D")
        name = f"{partition_key}={day}"
        replace_partition(sorted_table.slice(start, end - start), table_dir / name)
        written.add(name)
    if len(table) == 0:
        # An empty landing still needs one file, so readers see the schema.
        replace_partition(table, table_dir / f"{partition_key}=1970-01-01")
        written.add(f"{partition_key}=1970-01-01")
    if clear:
        _remove_other_partitions(table_dir, written)
    return len(written)


def _remove_other_partitions(table_dir: Path, keep: Iterable[str]) -> None:
    keep = set(keep)
    for child in table_dir.iterdir():
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child)


def read_table(table_dir: Path) -> pa.Table:
    """Read every partition of a lake table (partition columns are not added)."""
    files = sorted(Path(table_dir).glob("*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {table_dir}")
    return pa.concat_tables(pq.read_table(f) for f in files)
