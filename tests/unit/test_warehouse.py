"""The warehouse edge: a DuckDB file another process holds is retried, then refused in one line;
missing files and marts are named in one line."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from clv_jobs import warehouse

_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(60)
"""


def test_a_duckdb_file_held_by_another_process_is_retried_then_refused_in_one_line(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RuntimeError) as refused:
            warehouse.connect_duckdb(path, wait_seconds=1)
        message = str(refused.value)
        assert str(path) in message and "stayed locked for 1 s" in message and "\n" not in message
    finally:
        holder.kill()
        holder.wait()
    with warehouse.connect_duckdb(path, wait_seconds=1) as con:  # free again
        assert con.execute("select 1").fetchone() == (1,)


def test_a_missing_warehouse_file_says_to_build_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="run dbt build first"):
        warehouse.connect_duckdb(tmp_path / "none.duckdb")


def test_a_mart_never_built_is_named_in_one_line(tmp_path):
    """A warehouse whose build failed before the marts (e.g. a landing test): train says so."""
    from types import SimpleNamespace

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    settings = SimpleNamespace(dbt_target="dev", duckdb_path=path, pg_dsn="")
    with pytest.raises(ValueError) as missing:
        warehouse.read_mart(settings, "marts.fct_clv_training_examples")
    message = str(missing.value)
    assert message.startswith("marts.fct_clv_training_examples is not in the warehouse (target dev)")
    assert "clv-jobs dbt build" in message and "\n" not in message
