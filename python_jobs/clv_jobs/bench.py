"""Benchmarks that print figures (never asserted in tests): generation and dbt build time and
peak memory per scale (each step a child process, so its own peak RSS is measured), and batch
scoring throughput (in process, step by step)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from clv_jobs import dbt_cli
from clv_jobs.datasets import synthetic_lake

__all__ = ["StepResult", "run_step", "bench_features", "bench_landing", "bench_nightly", "bench_scoring"]


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


def _generate(customers: int, seed: int, env: dict[str, str], project_dir: Path, run_dir: Path) -> StepResult:
    """`clv-jobs generate` (no oracle) into the env's lake as a measured step; fails naming its log."""
    args = [str(Path(sys.executable).parent / "clv-jobs"), "generate", "--customers", str(customers)]
    args += ["--seed", str(seed), "--oracle-months", "0"]
    step = run_step("generate", args, env, project_dir, run_dir / "generate.log")
    if step.returncode != 0:
        raise RuntimeError(f"generate failed at {customers:,} customers: see {run_dir / 'generate.log'}")
    return step


def bench_landing(customers: list[int], work_dir: Path, project_dir: Path, seed: int = 7) -> list[dict]:
    """The landing guard at each scale: the first check of a whole lake (every file read and
    hashed), then a nightly check after one new day lands (one file per table)."""
    from clv_jobs import landing

    bindir = Path(sys.executable).parent
    results = []
    for n in customers:
        run_dir = Path(work_dir) / f"landing-n{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        env = {**os.environ, "CLV_LAKE_DIR": str(run_dir / "lake")}
        _generate(n, seed, env, project_dir, run_dir)
        landing.reset(run_dir / "lake")
        files = sum(len(landing.landed_files(run_dir / "lake", name)) for name in landing.EVENT_TIME_COLUMNS)
        check = [str(bindir / "clv-jobs"), "check-landing"]
        first = run_step("first check", check, env, project_dir, run_dir / "first_check.log")
        synthetic_lake.land_next_day(run_dir / "lake")
        nightly = run_step("one new day", check, env, project_dir, run_dir / "nightly_check.log")
        if first.returncode or nightly.returncode:
            raise RuntimeError(f"check-landing failed at {n:,} customers: see {run_dir}")
        lake_mb = sum(f.stat().st_size for f in (run_dir / "lake" / "raw").rglob("*.parquet")) / 2**20
        results.append(
            {
                "customers": n,
                "files": files,
                "raw_mb": round(lake_mb, 1),
                "first_check_s": round(first.seconds, 1),
                "first_check_peak_mb": round(first.peak_rss_mb),
                "one_new_day_s": round(nightly.seconds, 1),
                "one_new_day_peak_mb": round(nightly.peak_rss_mb),
            }
        )
    return results


def _fresh_run(run_dir: Path) -> tuple[Path, dict[str, str]]:
    """An emptied scratch folder and the environment of a DuckDB build in it."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "CLV_LAKE_DIR": str(run_dir / "lake"),
        "CLV_DUCKDB_PATH": str(run_dir / "bench.duckdb"),
        "CLV_DBT_TARGET": "dev",
    }
    return run_dir, env


def bench_nightly(customers: list[int], work_dir: Path, project_dir: Path, seed: int = 7) -> list[dict]:
    """The nightly build at each scale, side by side in one run: a full build of the shop, one
    more day landed (and checked), the incremental `dbt build` the nightly DAG runs, then a
    `--full-refresh` build of the same lake. Default vars (36 month ends, 365-day horizon), every
    data test included; each build after the first starts from the previous one's parse. The
    slowest nodes of both builds are kept from dbt's run_results.json."""
    bindir = Path(sys.executable).parent
    results = []
    for n in customers:
        run_dir, env = _fresh_run(Path(work_dir) / f"nightly-n{n}")
        _generate(n, seed, env, project_dir, run_dir)
        steps = {}
        previous_target = None
        for name, args in (
            ("first build", ["build"]),
            ("land one day", None),
            ("incremental", ["build"]),
            ("full refresh", ["build", "--full-refresh"]),
        ):
            if args is None:
                new_day = synthetic_lake.land_next_day(run_dir / "lake")
                step = run_step(
                    name, [str(bindir / "clv-jobs"), "check-landing"], env, project_dir, run_dir / "check.log"
                )
            else:
                step_dir = run_dir / name.replace(" ", "_")
                _keep_parse(previous_target, step_dir / "target")
                previous_target = step_dir / "target"
                step = run_step(
                    name, dbt_cli.dbt_command(*args, work_dir=step_dir), env, project_dir, step_dir.with_suffix(".log")
                )
                steps[f"{name}_slowest"] = _slowest_nodes(step_dir / "target" / "run_results.json")
            if step.returncode != 0:
                raise RuntimeError(f"{name} failed at {n:,} customers: see the logs in {run_dir}")
            steps[name] = step
        results.append(
            {
                "customers": n,
                "new_day": new_day,
                "full_build_s": round(steps["first build"].seconds, 1),
                "incremental_s": round(steps["incremental"].seconds, 1),
                "incremental_peak_mb": round(steps["incremental"].peak_rss_mb),
                "full_refresh_s": round(steps["full refresh"].seconds, 1),
                "full_refresh_peak_mb": round(steps["full refresh"].peak_rss_mb),
                "incremental_share": round(steps["incremental"].seconds / steps["full refresh"].seconds, 3),
                "incremental_slowest": steps["incremental_slowest"],
                "full_refresh_slowest": steps["full refresh_slowest"],
            }
        )
    return results


def _keep_parse(previous_target: Path | None, target: Path) -> None:
    """Start a dbt step from the previous step's parse, as the nightly DAG's persistent target/
    does (dbt then parses only what changed: nothing, here)."""
    if previous_target is not None and (previous_target / "partial_parse.msgpack").exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(previous_target / "partial_parse.msgpack", target / "partial_parse.msgpack")


def _slowest_nodes(run_results: Path, top: int = 8) -> str:
    """The `top` slowest nodes of a dbt run, as "name seconds" pairs."""
    import json

    nodes = json.loads(run_results.read_text())["results"]
    nodes.sort(key=lambda r: -r["execution_time"])
    return ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}" for r in nodes[:top])


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
    results = []
    for n in customers:
        run_dir, env = _fresh_run(Path(work_dir) / f"n{n}")
        gen = _generate(n, seed, env, project_dir, run_dir)
        build = run_step(
            "dbt build",
            dbt_cli.dbt_command(
                "build",
                dbt_vars={"clv_as_of_first_date": as_of_first, "clv_as_of_last_date": as_of_last},
                work_dir=run_dir,
            ),
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


def bench_scoring(
    customers: int, settings, as_of: str, work_dir: Path, progress=lambda m: None, seed: int = 7
) -> list[dict]:
    """Score a generated shop of `customers` through the production path and time each step,
    once with exact SHAP reasons and once with the approximation.

    Needs a champion (`make demo`). The shop is generated and its features built once for the
    single as-of date (`work_dir/scoring-n<customers>/`, reused when present); then the timed
    steps are the ones `clv-jobs score` runs: one bulk read, BTYD features, encode, predict
    (revenue and churn), reasons, tiers and table, the atomic partition write.
    """
    import resource

    t0 = time.perf_counter()
    from clv_jobs import lake, registry, score
    from clv_jobs.stages.score import features_at

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    champion = registry.load_champion()
    if champion is None:
        raise ValueError(f"no champion in the registry ({registry.tracking_uri()}): run `make demo` first")
    load_s = time.perf_counter() - t0
    version, model = champion

    work = Path(work_dir) / f"scoring-n{customers}"
    database = work / "bench.duckdb"
    if not _has_features(database, as_of):
        _build_features(customers, seed, as_of, work, settings.dbt_project_dir, progress)
    # The scoring job's own read (stages.score.features_at), pointed at the bench's DuckDB file.
    bench_settings = dataclasses.replace(settings, dbt_target="dev", duckdb_path=database, lake_dir=work / "lake")
    rows = []
    for method in score.REASON_METHODS:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        features = features_at(bench_settings, date.fromisoformat(str(as_of)))
        timings["read"] = time.perf_counter() - t0
        progress(f"scoring {len(features):,} customers with model version {version}, reasons {method}")
        tiers = score.load_tiers(settings.dbt_project_dir / "seeds" / "clv_value_tiers.csv")
        table = score.score_frame(model, version, features, tiers, registry.now_utc(), timings, reasons=method)
        t0 = time.perf_counter()
        lake.replace_partition(table, work / "lake" / "ml" / "scores" / f"as_of_date={as_of}")
        timings["write"] = time.perf_counter() - t0
        total = sum(timings.values())
        rows.append(
            {
                "customers": len(features),
                "reasons": method,
                "import_s": round(import_s, 1),
                "champion_load_s": round(load_s, 1),
                **{f"{k}_s": round(v, 1) for k, v in timings.items()},
                "score_total_s": round(total, 1),
                "customers_per_s": int(len(features) / total),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
        del features, table
    return rows


def _has_features(database: Path, as_of: str) -> bool:
    import duckdb

    if not database.exists():
        return False
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            query = f"select count(*) from marts.fct_customer_features where as_of_date = '{as_of}'"
            return con.execute(query).fetchall()[0][0] > 0
    except duckdb.Error:
        return False


def _build_features(customers: int, seed: int, as_of: str, work: Path, project_dir: Path, progress) -> None:
    """Generate the shop and build fct_customer_features for the one as-of date."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "CLV_LAKE_DIR": str(work / "lake"), "CLV_DUCKDB_PATH": str(work / "bench.duckdb")}
    progress(f"generating {customers:,} customers into {work / 'lake'} (once; reused by later runs)")
    _generate(customers, seed, env, project_dir, work)
    progress(f"dbt build of fct_customer_features at {as_of} (once)")
    step = run_step(
        "dbt build",
        dbt_cli.dbt_command(
            "build",
            "--select",
            "+fct_customer_features",
            "--exclude-resource-type",
            "test",
            "unit_test",
            dbt_vars={"clv_as_of_first_date": as_of, "clv_as_of_last_date": as_of},
            target="dev",
            work_dir=work,
        ),
        env,
        project_dir,
        work / "dbt_build.log",
    )
    if step.returncode != 0:
        raise RuntimeError(f"dbt build failed: see {work / 'dbt_build.log'}")
