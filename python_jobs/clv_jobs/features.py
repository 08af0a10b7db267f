"""The feature list, read from dbt's manifest (`meta.ml_role` on the columns of
fct_customer_features, and of fct_customer_labels for the labels), so a new feature is added in
one place: the features mart's YAML (DESIGN §6). fct_clv_training_examples selects both marts'
columns and declares no roles of its own."""

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


FEATURES_MODEL, LABELS_MODEL = "fct_customer_features", "fct_customer_labels"


def _column_roles(nodes: dict, model: str, manifest_path: Path) -> dict[str, str]:
    node = next((n for n in nodes.values() if n["resource_type"] == "model" and n["name"] == model), None)
    if node is None:
        raise ValueError(f"model {model!r} is not in {manifest_path}")
    roles = {}
    for name, column in node["columns"].items():
        role = (column.get("meta") or {}).get("ml_role") or (column.get("config", {}).get("meta") or {}).get("ml_role")
        if role is not None:
            roles[name] = role
    return roles


def feature_spec_from_manifest(manifest_path: Path) -> FeatureSpec:
    """Columns by ml_role, in the YAML's order: ids, features and categoricals from
    fct_customer_features, labels from fct_customer_labels. Fails naming the model and column."""
    manifest_path = Path(manifest_path)
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} not found: run `dbt build` (or `dbt parse`) first")
    nodes = json.loads(manifest_path.read_text())["nodes"]
    spec: dict[str, list[str]] = {"id": [], "feature": [], "categorical": [], "label": []}
    allowed = {FEATURES_MODEL: ("id", "feature", "categorical"), LABELS_MODEL: ("id", "label")}
    for model, model_roles in allowed.items():
        for name, role in _column_roles(nodes, model, manifest_path).items():
            if role not in model_roles:
                raise ValueError(f"{model}.{name}: ml_role {role!r} is not one of {list(model_roles)} on this model")
            if name not in spec[role]:
                spec[role].append(name)
    if not spec["feature"]:
        raise ValueError(f"{FEATURES_MODEL}: no column has meta.ml_role = feature")
    return FeatureSpec(spec["id"], spec["feature"], spec["categorical"], spec["label"])
