"""Every dbt command line clv-jobs runs comes from one helper."""

from __future__ import annotations

import json
from pathlib import Path

from clv_jobs import dbt_cli


def test_dbt_command_options(tmp_path):
    command = dbt_cli.dbt_command(
        "build", "--select", "x", dbt_vars={"a": 1}, target="dev", project_dir=Path("/p"), work_dir=tmp_path
    )
    assert command[0].endswith("/dbt") and command[1:4] == ["build", "--select", "x"]
    assert json.loads(command[command.index("--vars") + 1]) == {"a": 1}
    assert command[command.index("--profiles-dir") + 1] == "/p" == command[command.index("--project-dir") + 1]
    assert command[command.index("--target-path") + 1] == str(tmp_path / "target")


def test_dbt_command_adds_nothing_it_was_not_given():
    assert dbt_cli.dbt_command("parse")[1:] == ["parse"]
