"""Shared fixtures: a small synthetic lake, a dbt runner with isolated artefacts, PostgreSQL,
moto's AWS server."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# `make test` runs the suite on two pytest-xdist workers. Each worker has a PostgreSQL database of
# its own (pg_env), so tests on PostgreSQL never meet. A work unit goes to one worker whole: the
# tests on the demo `product` form one unit (the product is built once); each other integration
# or orchestration module is one unit (its module fixtures are costly builds); every other test
# is a unit alone.
# xdist's own `xdist_group` marks are ignored under pytest 9 (pytest-xdist issue #1386), so the
# units are made here, by a scheduler of our own.
PRODUCT_MODULES = (
    "tests/integration/test_dashboards.py",
    "tests/integration/test_experiment_flow.py",
    "tests/integration/test_daily_scores.py",
)
# Costliest units first (CI's --durations), so no long unit starts while the other worker idles.
COSTLIEST_FIRST = (
    "product",
    "tests/orchestration/test_dags.py",
    "tests/integration/test_lifecycle_story.py",
    "tests/integration/test_landing_faults.py",
    "tests/integration/test_incremental_builds.py",
    "tests/integration/test_privacy.py",
    "tests/integration/test_train_duckdb.py",
    "tests/integration/test_sagemaker_jobs.py",
    "tests/integration/test_backtest.py",
    "tests/integration/test_warehouse_postgres.py",
)


def work_unit(nodeid: str) -> str:
    path = nodeid.split("::")[0]
    if path in PRODUCT_MODULES:
        return "product"
    return path if path.startswith(("tests/integration/", "tests/orchestration/")) else nodeid


def _cost_rank(nodeid: str) -> int:
    unit = work_unit(nodeid)
    return COSTLIEST_FIRST.index(unit) if unit in COSTLIEST_FIRST else len(COSTLIEST_FIRST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    uses_product = [i.nodeid for i in items if "product" in getattr(i, "fixturenames", ())]
    stray = sorted(nodeid for nodeid in uses_product if work_unit(nodeid) != "product")
    if stray:
        raise pytest.UsageError(f"{stray[0]} uses `product`: add its module to PRODUCT_MODULES in tests/conftest.py")
    # Both workers sort alike, so their collections stay identical, as xdist requires.
    items.sort(key=lambda item: _cost_rank(item.nodeid))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load":  # the default of -n; an explicit --dist is obeyed
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        """xdist's loadscope over our work units, in collection order (costliest first); a
        worker gets its next unit only when the one it runs has a single test left."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _reschedule(self, node) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
            elif self._pending_of(self.assigned_work[node]) <= 1:
                self._assign_work_unit(node)

    config.option.loadscopereorder = False
    return UnitScheduling(config, log)


@dataclass
class DbtResult:
    returncode: int
    output: str


def failure_digest(output: str, lines: int = 40, tail: int = 2000) -> str:
    """What a failed run said first about its failure (a dbt model's error, a task's traceback)
    and how it ended: the first cause is rarely in the last lines of a long log."""
    hits = [line for line in output.splitlines() if FAILURE_LINE.search(line)]
    return "\n".join(["first failure lines:", *hits[:lines], "...", output[-tail:]])


FAILURE_LINE = re.compile(
    r"Error in |Database Error|Runtime Error|Compilation Error|Traceback|ERROR|Task failed|exit code|stale"
)


def run_dbt(args: list[str], env: dict[str, str], work: Path, project_dir: Path = PROJECT_DIR) -> DbtResult:
    """Run dbt with its target/ and logs/ under `work`, so tests never touch the user's."""
    cmd = [str(BIN / "dbt"), *args, "--log-path", str(work / "logs")]
    if args[0] != "deps":
        cmd += ["--target-path", str(work / "target")]
    if "--profiles-dir" not in args:
        cmd += ["--profiles-dir", str(project_dir)]
    proc = subprocess.run(cmd, cwd=project_dir, env={**os.environ, **env}, capture_output=True, text=True)
    return DbtResult(proc.returncode, proc.stdout + proc.stderr)


def pg_env() -> dict[str, str]:
    return {
        "CLV_PG_HOST": os.environ.get("CLV_PG_HOST", "127.0.0.1"),
        "CLV_PG_PORT": os.environ.get("CLV_PG_PORT", "5432"),
        "CLV_PG_USER": os.environ.get("CLV_PG_USER", "clv"),
        "CLV_PG_PASSWORD": os.environ.get("CLV_PG_PASSWORD", "clv"),
        "CLV_PG_DATABASE": os.environ.get("CLV_PG_DATABASE", "clv_ci") + WORKER_SUFFIX,
    }


# The xdist worker's own database (clv_ci_gw0, clv_ci_gw1), none without xdist.
WORKER_SUFFIX = f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """DSN of the test PostgreSQL server; skips locally when none runs, fails in CI."""
    import psycopg2

    env = pg_env()
    dsn = (
        f"host={env['CLV_PG_HOST']} port={env['CLV_PG_PORT']} user={env['CLV_PG_USER']} "
        f"password={env['CLV_PG_PASSWORD']} dbname={env['CLV_PG_DATABASE']}"
    )
    try:
        if WORKER_SUFFIX:
            _create_database(dsn.replace(env["CLV_PG_DATABASE"], env["CLV_PG_DATABASE"].removesuffix(WORKER_SUFFIX)))
        psycopg2.connect(dsn, connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI (scripts/start_postgres.sh): {exc}")
        pytest.skip(f"no PostgreSQL server (run scripts/start_postgres.sh): {exc}")
    return dsn


def _create_database(maintenance_dsn: str) -> None:
    """The worker's database, created from the one scripts/start_postgres.sh made (clv may create
    databases)."""
    import psycopg2

    name = pg_env()["CLV_PG_DATABASE"]
    conn = psycopg2.connect(maintenance_dsn, connect_timeout=3)
    conn.autocommit = True  # create database cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
    finally:
        conn.close()


@pytest.fixture(scope="session", autouse=True)
def dbt_packages() -> None:
    """`dbt deps` once: installs the local dbt_expectations package (no network)."""
    if not (PROJECT_DIR / "dbt_packages" / "dbt_expectations").exists():
        subprocess.run([str(BIN / "dbt"), "deps", "--quiet"], cwd=PROJECT_DIR, check=True)


@pytest.fixture(scope="session")
def small_shop():
    from clv_jobs.datasets import synthetic

    return synthetic.generate_shop(2_000, seed=11)


@pytest.fixture(scope="session")
def synthetic_lake(tmp_path_factory, small_shop) -> Path:
    from clv_jobs import dates
    from clv_jobs.datasets import synthetic_lake

    lake = tmp_path_factory.mktemp("lake")
    params = small_shop.params
    synthetic_lake.write_shop(small_shop, lake, oracle_as_of=dates.month_ends(params.start, params.end)[-36:])
    return lake


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory, synthetic_lake) -> tuple[Path, DbtResult]:
    """`dbt build` of the whole project on DuckDB over the small synthetic lake."""
    work = tmp_path_factory.mktemp("dbt_duckdb")
    env = {"CLV_DBT_TARGET": "ci", "CLV_LAKE_DIR": str(synthetic_lake), "CLV_DUCKDB_PATH": str(work / "ci.duckdb")}
    return work / "ci.duckdb", run_dbt(["build"], env, work)


def copy_lake(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@dataclass
class MotoServer:
    url: str
    recording: Path  # every request the server received, one JSON object per line

    def requests(self, target: str) -> list[dict]:
        """The JSON bodies of the recorded requests whose X-Amz-Target is `target`
        (e.g. "SageMaker.CreateTrainingJob"): what the client really sent."""
        import base64
        import json

        found = []
        for line in self.recording.read_text().splitlines():
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in entry["headers"].items()}
            if headers.get("x-amz-target") == target:
                body = base64.b64decode(entry["body"]) if entry["body_encoded"] else entry["body"]
                found.append(json.loads(body))
        return found


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> MotoServer:
    """moto's server on 127.0.0.1 (S3, SageMaker, IAM, CloudWatch APIs), recording requests."""
    recording = tmp_path_factory.mktemp("moto") / "requests.jsonl"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(recording)}
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("moto_server did not start")
    yield MotoServer(f"http://127.0.0.1:{port}", recording)
    server.terminate()
    server.wait(timeout=10)


LOOSE_GATES = """
[gates]
min_normalized_gini = 0.0
must_beat_every_baseline = []
min_disparate_impact_ratio = 0.0
"""


def model_config(monkeypatch, directory: Path, text: str = LOOSE_GATES) -> Path:
    """Override conf/model.toml for a test through `CLV_MODEL_CONFIG` (as a user would)."""
    path = Path(directory) / "model-override.toml"
    path.write_text(text)
    monkeypatch.setenv("CLV_MODEL_CONFIG", str(path))
    return path


def job_settings(lake_dir, reports_dir, dbt_target_path, duckdb_path, dbt_target: str = "ci", pg_dsn: str = ""):
    """The jobs' Settings for a test's own lake, reports, dbt target/ and warehouse."""
    from clv_jobs.settings import Settings

    return Settings(
        lake_dir=lake_dir,
        duckdb_path=duckdb_path,
        dbt_target=dbt_target,
        dbt_project_dir=PROJECT_DIR,
        dbt_target_path=dbt_target_path,
        pg_dsn=pg_dsn,
        reports_dir=reports_dir,
    )


def workspace_env(work: Path) -> dict[str, str]:
    """The environment of a whole product in a folder of its own (lake, DuckDB warehouse, MLflow
    registry, reports, dbt's target/ and logs/), run from `work` against this project, with the
    small-sample gates (written to `work/loose.toml`)."""
    (work / "loose.toml").write_text(LOOSE_GATES)
    return {
        **os.environ,
        "CLV_MODEL_CONFIG": str(work / "loose.toml"),
        "CLV_LAKE_DIR": str(work / "lake"),
        "CLV_DUCKDB_PATH": str(work / "clv.duckdb"),
        "CLV_MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "CLV_REPORTS_DIR": str(work / "reports"),
        "CLV_DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work / "target"),
        "CLV_DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }


def clv_jobs(env: dict, *args: str) -> str:
    """Run `clv-jobs` as a user would, from the product's folder (env["WORK"]); fail the test
    with its output when it fails. Returns what it printed."""
    run = subprocess.run([str(BIN / "clv-jobs"), *args], env=env, cwd=env["WORK"], capture_output=True, text=True)
    assert run.returncode == 0, f"clv-jobs {' '.join(args)}:\n{(run.stdout + run.stderr)[-6000:]}"
    return run.stdout + run.stderr


AS_OF, PREVIOUS_AS_OF = "2024-12-31", "2023-12-31"


@pytest.fixture(scope="session")
def product(tmp_path_factory):
    """The demo's steps through the CLI on a 2,000-customer shop, in a folder of its own:
    generate -> check-landing -> dbt build -> train -> score (twice) -> monitor -> ML marts.
    Shared by the dashboard tests and, after them, the experiment tests (which add to it)."""
    work = tmp_path_factory.mktemp("product")
    env = {**workspace_env(work), "WORK": str(work), "CLV_DBT_TARGET": "dev"}
    clv_jobs(env, "generate", "--customers", "2000", "--seed", "11")
    clv_jobs(env, "check-landing")
    clv_jobs(env, "dbt", "build")
    clv_jobs(env, "train")
    clv_jobs(env, "score", "--as-of-date", PREVIOUS_AS_OF)
    clv_jobs(env, "score", "--as-of-date", AS_OF)
    clv_jobs(env, "monitor", "--as-of-date", AS_OF)
    output = clv_jobs(env, "dbt", "build", "--selector", "ml_marts")
    assert "dashboards: published" in output
    return env
