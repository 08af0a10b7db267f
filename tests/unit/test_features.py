"""The feature list from dbt's manifest: roles declared once, on the features and labels marts."""

from __future__ import annotations

import json

import pytest

from clv_jobs.features import feature_spec_from_manifest


def _manifest(tmp_path, features: dict, labels: dict):
    nodes = {
        f"model.clv_warehouse.{name}": {"resource_type": "model", "name": name, "columns": columns}
        for name, columns in (("fct_customer_features", features), ("fct_customer_labels", labels))
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_feature_spec_reads_roles_in_order(tmp_path):
    path = _manifest(
        tmp_path,
        {
            "customer_id": {"meta": {"ml_role": "id"}},
            "tenure_days": {"meta": {"ml_role": "feature"}},
            "country": {"config": {"meta": {"ml_role": "categorical"}}},
            "frequency": {"meta": {"ml_role": "feature"}},
            "first_purchase_date": {"meta": {}},
        },
        {"customer_id": {"meta": {"ml_role": "id"}}, "revenue_next_horizon_usd": {"meta": {"ml_role": "label"}}},
    )
    spec = feature_spec_from_manifest(path)
    assert spec.numeric == ["tenure_days", "frequency"] and spec.categorical == ["country"]
    assert spec.ids == ["customer_id"] and spec.labels == ["revenue_next_horizon_usd"]


@pytest.mark.parametrize(
    ("features", "labels", "message"),
    [
        ({"x": {"meta": {"ml_role": "target"}}}, {}, r"fct_customer_features.x: ml_role 'target' is not one of"),
        ({"x": {"meta": {"ml_role": "feature"}}}, {"y": {"meta": {"ml_role": "feature"}}}, r"fct_customer_labels.y"),
        ({"x": {"meta": {"ml_role": "label"}}}, {}, r"fct_customer_features.x: ml_role 'label'"),
        ({"x": {"meta": {}}}, {}, r"fct_customer_features: no column has meta.ml_role = feature"),
    ],
    ids=["unknown-role", "feature-on-labels", "label-on-features", "no-features"],
)
def test_feature_spec_rejects_roles_on_the_wrong_model(tmp_path, features, labels, message):
    with pytest.raises(ValueError, match=message):
        feature_spec_from_manifest(_manifest(tmp_path, features, labels))


def test_feature_spec_names_a_missing_model(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {}}))
    with pytest.raises(ValueError, match="model 'fct_customer_features' is not in"):
        feature_spec_from_manifest(path)
