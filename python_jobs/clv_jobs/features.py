"""The feature list, read from dbt's manifest (`meta.ml_role` on the mart's columns), so a new
feature is added in one place: the mart's YAML (DESIGN §6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FeatureSpec", "feature_spec_from_manifest"]


@dataclass(frozen=True)
class FeatureSpec:
    ids: list[str]
    numeric: list[str]
    categorical: list[str]
    labels: list[str]

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def feature_spec_from_manifest(manifest_path: Path, model: str = "fct_clv_training_examples") -> FeatureSpec:
    """Columns of `model` by ml_role, in the YAML's order. Fails naming the model if it has none."""
    manifest_path = Path(manifest_path)
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} not found: run `dbt build` (or `dbt parse`) first")
    nodes = json.loads(manifest_path.read_text())["nodes"]
    node = next((n for n in nodes.values() if n["resource_type"] == "model" and n["name"] == model), None)
    if node is None:
        raise ValueError(f"model {model!r} is not in {manifest_path}")
    roles: dict[str, list[str]] = {"id": [], "feature": [], "categorical": [], "label": []}
    for name, column in node["columns"].items():
        role = (column.get("meta") or {}).get("ml_role") or (column.get("config", {}).get("meta") or {}).get("ml_role")
        if role is None:
            continue
        if role not in roles:
            raise ValueError(f"{model}.{name}: unknown ml_role {role!r} (expected one of {sorted(roles)})")
        roles[role].append(name)
    if not roles["feature"]:
        raise ValueError(f"{model}: no column has meta.ml_role = feature")
    return FeatureSpec(roles["id"], roles["feature"], roles["categorical"], roles["label"])
