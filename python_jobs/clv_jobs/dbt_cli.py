"""The one place a dbt command line is built: the project's dbt executable, the verb, and the
options every invocation from clv-jobs needs (project and profiles directories, target, vars,
separate target and log paths so concurrent builds never share `target/`).

Used by `clv-jobs backtest`, the benchmarks, `clv-jobs register-partitions` and `clv-jobs dbt`
(which the Airflow DAGs call, under the lake's writer lock)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["dbt_executable", "dbt_command"]


def dbt_executable() -> Path:
    """`dbt` beside the running Python (the project's venv)."""
    return Path(sys.executable).parent / "dbt"


def dbt_command(
    verb: str,
    *args: str,
    project_dir: Path | None = None,
    target: str | None = None,
    dbt_vars: dict | None = None,
    work_dir: Path | None = None,
) -> list[str]:
    """`dbt <verb> <args...>` with the options given: `project_dir` is also the profiles
    directory (the committed profiles.yml); `work_dir` gets `target/` and `logs/`."""
    command = [str(dbt_executable()), verb, *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    if target:
        command += ["--target", target]
    if project_dir is not None:
        command += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if work_dir is not None:
        command += ["--target-path", str(Path(work_dir) / "target"), "--log-path", str(Path(work_dir) / "logs")]
    return command
