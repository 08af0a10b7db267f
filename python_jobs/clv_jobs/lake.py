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

__all__ = [
    "replace_partition",
    "replace_file",
    "sweep",
    "write_partitioned",
    "read_table",
    "raw_dir",
    "LakeRoot",
    "local_dir",
    "is_hidden",
    "require_folder",
]


def local_dir(root: str | Path, must_exist: bool = True) -> Path:
    """The lake as a local folder, for the commands that only work on one (generate, import,
    backtest, load-raw, load-ml); fails naming the setting when it is an S3 URI, and when the
    folder does not exist (only generate and the importers create a lake)."""
    if str(root).startswith("s3://"):
        raise ValueError(f"CLV_LAKE_DIR={root}: this command needs a local lake folder (use --lake or CLV_LAKE_DIR)")
    if must_exist:
        require_folder(Path(root))
    return Path(root)


def require_folder(path: Path) -> None:
    """Fail in one line when the lake folder does not exist (never create it by accident)."""
    if not path.is_dir():
        raise FileNotFoundError(
            f"lake folder {path} does not exist (CLV_LAKE_DIR or --lake): "
            "create one with `clv-jobs generate` or `clv-jobs import`"
        )


class LakeRoot:
    """A lake root (a folder or s3://bucket/prefix); paths below it are given as parts."""

    def __init__(self, root: str | Path):
        self.root = str(root).rstrip("/")
        self.is_s3 = self.root.startswith("s3://")
        if not self.is_s3:
            require_folder(Path(self.root))

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
        files = sorted(f for f in path.rglob("*.parquet") if not any(is_hidden(p) for p in f.relative_to(path).parts))
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
        return sorted(
            p.name.split("=", 1)[1] for p in path.iterdir() if p.is_dir() and "=" in p.name and not is_hidden(p.name)
        )


def is_hidden(name: str) -> bool:
    """Names that Hive-style readers (and Spectrum) skip: work in progress, never data."""
    return name.startswith(("_", "."))


def raw_dir(lake: Path, name: str) -> Path:
    """Folder of raw table `name` in the lake."""
    return Path(lake) / "raw" / name


def _work_dir(target: Path) -> Path:
    """Where a write to `target` keeps its temporary and backup copies: `_tmp/<table>/` beside
    the table, out of reach of every reader's `<table>/*/*.parquet` glob and hidden by its `_`."""
    return target.parent.parent / "_tmp" / target.parent.name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(table_dir: Path) -> None:
    """Clean up after writers to `table_dir` that died (kill -9, power loss): a backup whose
    partition is missing (the crash fell between the two renames) is put back; every other
    leftover of a dead writer is removed. Also removes the `.tmp-*` / `.old-*` folders that
    earlier versions left inside the table."""
    table_dir = Path(table_dir)
    if table_dir.is_dir():
        for child in table_dir.iterdir():
            if child.name.startswith((".tmp-", ".old-")):
                shutil.rmtree(child, ignore_errors=True)
    work = table_dir.parent / "_tmp" / table_dir.name
    if not work.is_dir():
        return
    for entry in work.iterdir():
        pid, _, rest = entry.name.partition("-")
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        kind, _, partition = rest.split("-", 1)[1].partition("-")
        target = table_dir / partition
        if kind == "old" and entry.is_dir() and not target.exists():
            os.replace(entry, target)
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _work_name(kind: str, name: str) -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex}-{kind}-{name}"


def replace_partition(
    table: pa.Table, partition_dir: Path, file_name: str = "part-0.parquet", swept: bool = False
) -> Path:
    """Write `table` as the only file of `partition_dir`, replacing what was there atomically
    (first sweeping what dead writers left, unless the caller has: `swept`)."""
    partition_dir = Path(partition_dir)
    partition_dir.parent.mkdir(parents=True, exist_ok=True)
    if not swept:
        sweep(partition_dir.parent)
    work = _work_dir(partition_dir)
    work.mkdir(parents=True, exist_ok=True)
    tmp = work / _work_name("tmp", partition_dir.name)
    tmp.mkdir()
    try:
        pq.write_table(table, tmp / file_name, compression="zstd")
        old = None
        if partition_dir.exists():
            old = work / _work_name("old", partition_dir.name)
            os.replace(partition_dir, old)
        os.replace(tmp, partition_dir)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return partition_dir


def replace_file(table: pa.Table, path: Path) -> Path:
    """Replace one Parquet file in place, atomically (e.g. a raw file rewritten by an erasure)."""
    path = Path(path)
    work = _work_dir(path.parent)
    work.mkdir(parents=True, exist_ok=True)
    tmp = work / _work_name("file", path.name)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


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
    table_dir.mkdir(parents=True, exist_ok=True)
    sweep(table_dir)
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
        replace_partition(sorted_table.slice(start, end - start), table_dir / name, swept=True)
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
        if child.is_dir() and child.name not in keep and not is_hidden(child.name):
            shutil.rmtree(child)


def read_table(table_dir: Path) -> pa.Table:
    """Read every partition of a lake table (partition columns are not added)."""
    files = sorted(Path(table_dir).glob("*/*.parquet"))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {table_dir}")
    return pa.concat_tables(pq.read_table(f) for f in files)
