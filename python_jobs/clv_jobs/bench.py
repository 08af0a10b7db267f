"""Benchmarks that print figures (never asserted in tests): generation and dbt build time and
peak memory per scale. Each step runs as a child process so its own peak RSS is measured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StepResult", "run_step", "bench_features"]


@dataclass
class StepResult:
    name: str
    seconds: float
    peak_rss_mb: float
    returncode: int


def run_step(name: str, args: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> StepResult:
    """Run one command; wall time and the child's peak resident memory (from wait4)."""
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    return StepResult(name, seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def bench_features(
    customers: list[int],
    work_dir: Path,
    project_dir: Path,
    as_of_first: str = "2023-01-31",
    as_of_last: str = "2023-12-31",
    seed: int = 7,
) -> list[dict]:
    """Generate and build the warehouse at each scale; returns one dict of figures per scale.

    The default spine is the 12 month ends of 2023, whose labels are complete in the default
    shop (data to 2024-12-31), so features, labels and training examples are all built.
    """
    bindir = Path(sys.executable).parent
    results = []
    for n in customers:
        run_dir = Path(work_dir) / f"n{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        env = {
            **os.environ,
            "CLV_LAKE_DIR": str(run_dir / "lake"),
            "CLV_DUCKDB_PATH": str(run_dir / "bench.duckdb"),
            "CLV_DBT_TARGET": "dev",
        }
        gen = run_step(
            "generate",
            [str(bindir / "clv-jobs"), "generate", "--customers", str(n), "--seed", str(seed), "--oracle-months", "0"],
            env,
            project_dir,
            run_dir / "generate.log",
        )
        if gen.returncode != 0:
            raise RuntimeError(f"generate failed at {n:,} customers: see {run_dir / 'generate.log'}")
        build = run_step(
            "dbt build",
            [
                str(bindir / "dbt"),
                "build",
                "--vars",
                json.dumps({"clv_as_of_first_date": as_of_first, "clv_as_of_last_date": as_of_last}),
                "--target-path",
                str(run_dir / "target"),
                "--log-path",
                str(run_dir / "logs"),
            ],
            env,
            project_dir,
            run_dir / "dbt_build.log",
        )
        if build.returncode != 0:
            raise RuntimeError(f"dbt build failed at {n:,} customers: see {run_dir / 'dbt_build.log'}")
        import duckdb

        with duckdb.connect(str(run_dir / "bench.duckdb"), read_only=True) as con:
            lines = con.execute("select count(*) from staging.stg_shop__transactions").fetchall()[0][0]
            features = con.execute("select count(*) from marts.fct_customer_features").fetchall()[0][0]
        results.append(
            {
                "customers": n,
                "transaction_lines": lines,
                "feature_rows": features,
                "generate_s": round(gen.seconds, 1),
                "generate_peak_mb": round(gen.peak_rss_mb),
                "dbt_build_s": round(build.seconds, 1),
                "dbt_build_peak_mb": round(build.peak_rss_mb),
            }
        )
    return results
