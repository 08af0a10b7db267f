"""terraform/: formatted, scanned by checkov with no failed check (each skip justified in a
comment), and, parsed with python-hcl2: typed and described variables, tags on every taggable
resource, no *FullAccess policy, no wildcard actions allowed on the lake bucket."""

from __future__ import annotations

import os
import subprocess

import hcl2
import pytest

from conftest import PROJECT_DIR

TERRAFORM = PROJECT_DIR / "terraform"
IAC_BIN = PROJECT_DIR / ".iac" / "bin"
FILES = sorted(TERRAFORM.rglob("*.tf"))
# Resource types of this code that AWS cannot tag; every other resource must set tags.
NOT_TAGGABLE = {
    "aws_cloudwatch_dashboard",
    "aws_ecr_lifecycle_policy",
    "aws_kms_alias",
    "aws_iam_role_policy",
    "aws_sns_topic_subscription",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
}

needs_iac = pytest.mark.skipif(
    not (IAC_BIN / "checkov").exists() and not os.environ.get("CI"),
    reason="checkov/terraform venv missing: run `make iac` (make test does)",
)


def _unquote(value):
    return value.strip('"') if isinstance(value, str) else value


def _blocks(kind: str):
    """(file, type, name, body) of every `kind` block ("resource", "data") in terraform/."""
    for path in FILES:
        parsed = hcl2.load(path.open())
        for entry in parsed.get(kind, []):
            for block_type, named in entry.items():
                for name, body in named.items():
                    yield path, _unquote(block_type), _unquote(name), body


def test_layout_follows_the_house_style():
    modules = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
    assert {m.name for m in modules} >= {
        "lake_bucket",
        "glue_catalog",
        "redshift_serverless",
        "sagemaker_role",
        "image_repository",
    }
    for module in modules:
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (module / name).exists(), f"{module.name}/{name} missing"
    for env in ("dev", "prod"):
        assert (TERRAFORM / "envs" / env / "terraform.tfvars").exists()
    assert not list((TERRAFORM / "modules").rglob("*.tfvars")), ".tfvars belong to envs/ only"


def test_every_variable_is_typed_and_described():
    variables = 0
    for path in FILES:
        for entry in hcl2.load(path.open()).get("variable", []):
            for name, body in entry.items():
                variables += 1
                where = f"{path.relative_to(TERRAFORM)}: variable {_unquote(name)}"
                assert "type" in body, f"{where} has no type"
                assert _unquote(body.get("description", "")).strip(), f"{where} has no description"
    assert variables > 20


def test_every_taggable_resource_is_tagged():
    resources = list(_blocks("resource"))
    assert len(resources) > 20
    for path, resource_type, name, body in resources:
        if resource_type not in NOT_TAGGABLE:
            assert "tags" in body, f"{path.relative_to(TERRAFORM)}: {resource_type}.{name} has no tags"


def test_no_full_access_managed_policies():
    for path in FILES:
        assert "FullAccess" not in path.read_text(), f"{path.relative_to(TERRAFORM)} mentions a *FullAccess policy"


def test_no_wildcard_actions_allowed_on_the_lake_bucket():
    statements = 0
    for path, data_type, name, body in _blocks("data"):
        if data_type != "aws_iam_policy_document":
            continue
        for statement in body.get("statement", []):
            statements += 1
            if _unquote(statement.get("effect", "Allow")) != "Allow":
                continue
            actions = [_unquote(a) for a in statement.get("actions", [])]
            resources = " ".join(str(r) for r in statement.get("resources", []))
            touches_lake = "lake_bucket_arn" in resources or "aws_s3_bucket.this" in resources
            where = f"{path.relative_to(TERRAFORM)}: {name}/{_unquote(statement.get('sid', '?'))}"
            if touches_lake:
                assert not [a for a in actions if a in {"*", "s3:*"} or a.endswith(":*")], where
            assert "*" not in actions and "s3:*" not in actions or name == "key", where
    assert statements > 10


@needs_iac
def test_terraform_fmt():
    run = subprocess.run(
        [str(IAC_BIN / "terraform"), "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@needs_iac
def test_checkov_finds_no_failed_check():
    run = subprocess.run(
        [str(IAC_BIN / "checkov"), "-d", str(TERRAFORM), "--framework", "terraform", "--compact", "--quiet"]
        + ["--skip-download"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-5000:]
    assert "Failed checks: 0" in run.stdout
    # Every skip carries a reason after the check id.
    for path in FILES:
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                check, _, reason = line.split("checkov:skip=", 1)[1].partition(":")
                assert len(reason.strip()) > 20, f"{path.relative_to(TERRAFORM)}: {check} skipped without a reason"


def test_the_operations_dashboard_shows_every_metric_the_jobs_put():
    """The CloudWatch dashboard draws exactly the metrics clv-jobs and the DAGs publish, and both
    alarms; a metric added to the code without a widget (or a widget of no metric) fails."""
    import json
    import re

    template = (TERRAFORM / "modules" / "alerts" / "operations_dashboard.json.tftpl").read_text()
    body = json.loads(re.sub(r"\$\{\w+\}", "x", template))
    drawn = {m[1] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}
    assert {m[0] for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]} == {
        "clv-warehouse"
    }
    code = [*(PROJECT_DIR / "python_jobs").rglob("*.py"), *(PROJECT_DIR / "orchestration" / "dags").rglob("*.py")]
    put = {name for path in code for name in re.findall(r'"MetricName": "(\w+)"', path.read_text())}
    assert put == drawn == {"FailedTasks", "RetrainRecommended", "DriftColumnsAlert", "DriftColumnsWarn"}
    assert "${failed_jobs_alarm_arn}" in template and "${drift_alarm_arn}" in template
