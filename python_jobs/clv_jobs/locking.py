"""One writer at a time per lake: `score`, `monitor`, `train`, `load-*`, the landing guard and the
DAG's dbt steps (`clv-jobs locked -- dbt build`) take the lake's writer lock.

The lock is an advisory `flock` on `<lake>/_locks/writer.lock` (for an S3 lake, on a file in
`CLV_LOCK_DIR`, default the system's temp folder: one scheduler host), so the kernel drops it
when its holder dies, even by kill -9. The file names the holder (pid, command, since), so the
one-line refusal can say who to wait for.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from clv_jobs import lake

__all__ = ["LockBusy", "lock_path", "writer_lock"]


class LockBusy(RuntimeError):
    """Another process holds the writer lock."""


def lock_path(lake_dir: Path | str) -> Path:
    """The lock file of a lake; a local lake must exist (taking its lock never creates it)."""
    root = str(lake_dir)
    if root.startswith("s3://"):
        folder = Path(os.environ.get("CLV_LOCK_DIR", tempfile.gettempdir()))
        return folder / f"clv-writer-{hashlib.sha256(root.encode()).hexdigest()[:16]}.lock"
    lake.require_folder(Path(root))
    return Path(root) / "_locks" / "writer.lock"


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown holder"
    except OSError:
        return "unknown holder"


@contextlib.contextmanager
def writer_lock(lake_dir: Path | str, command: str | None = None, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the lake's writer lock; wait up to `wait_seconds` (default `CLV_LOCK_WAIT_SECONDS`,
    else 0), then raise `LockBusy` naming the holder."""
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("CLV_LOCK_WAIT_SECONDS", "0"))
    path = lock_path(lake_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"the lake {lake_dir} is being written by {_holder(path)}; wait for it, or set "
                        f"CLV_LOCK_WAIT_SECONDS to queue (lock file {path})"
                    ) from None
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
                delay = min(delay * 2, 5)
        handle.seek(0)
        handle.truncate()
        what = command or " ".join(["clv-jobs", *sys.argv[1:]])
        handle.write(f"pid {os.getpid()} ({what}) since {datetime.now():%Y-%m-%d %H:%M:%S}\n")
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
        handle.close()  # closing releases the flock
