"""One writer per lake: a second writer is refused in one line naming the holder; a holder
killed with SIGKILL releases the lock."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from clv_jobs import locking

_HOLDER = """
import sys, time
from clv_jobs import locking
with locking.writer_lock(sys.argv[1], command="clv-jobs score --as-of-date 2024-12-31"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_naming_the_holder_until_the_holder_dies(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(locking.LockBusy) as refused, locking.writer_lock(tmp_path, wait_seconds=0.5):
            pass
        assert time.monotonic() - started >= 0.5  # it waited as asked before refusing
        message = str(refused.value)
        assert f"pid {holder.pid} (clv-jobs score --as-of-date 2024-12-31) since" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()
    with locking.writer_lock(tmp_path, command="next"):
        assert "pid" in locking.lock_path(tmp_path).read_text()
    assert locking.lock_path(tmp_path).read_text() == ""


def test_an_s3_lake_locks_a_local_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CLV_LOCK_DIR", str(tmp_path))
    assert locking.lock_path("s3://bucket/lake").parent == tmp_path


def test_taking_the_lock_of_a_missing_lake_fails_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"), locking.writer_lock(tmp_path / "nowhere"):
        pass
    assert not (tmp_path / "nowhere").exists()
