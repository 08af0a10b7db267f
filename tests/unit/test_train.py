"""Training building blocks: the encoder, the model's round trip, the manifest's feature list."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from clv_jobs.features import FeatureSpec, feature_spec_from_manifest
from clv_jobs.train import BTYD_FEATURES, ClvModel, Encoder

SPEC = FeatureSpec(ids=["customer_id", "as_of_date"], numeric=["frequency"], categorical=["country"], labels=[])


def test_encoder_one_hot_with_training_categories_only():
    train = pd.DataFrame({"frequency": [1, 2], "country": ["FR", "UK"], **{c: [0.0, 0.0] for c in BTYD_FEATURES}})
    encoder = Encoder.fit(train, SPEC)
    assert encoder.feature_names == ["frequency", *BTYD_FEATURES, "country=FR", "country=UK"]
    new = pd.DataFrame({"frequency": [3, None], "country": ["UK", "DE"], **{c: [1.0, 1.0] for c in BTYD_FEATURES}})
    matrix = encoder.transform(new)
    assert matrix[0, -2:].tolist() == [0.0, 1.0]
    assert matrix[1, -2:].tolist() == [0.0, 0.0]  # unseen category: all zeros
    assert np.isnan(matrix[1, 0])  # missing numeric stays missing for XGBoost


def test_encoder_names_the_missing_column():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['country'\]"):
        Encoder(["frequency"], {"country": ["FR"]}).transform(pd.DataFrame({"frequency": [1]}))


def test_model_round_trip_predicts_identically(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "frequency": rng.integers(0, 5, 200),
            "country": rng.choice(["FR", "UK"], 200),
            **{c: rng.random(200) for c in BTYD_FEATURES},
        }
    )
    encoder = Encoder.fit(frame, SPEC)
    x = encoder.transform(frame)
    y = frame["frequency"].to_numpy(float) * 10
    regressor = xgb.train({"objective": "reg:squarederror", "nthread": 1}, xgb.DMatrix(x, label=y), 20)
    churn = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y > 20), 20)
    model = ClvModel(encoder, regressor, churn, "reg:squarederror", 1.0, 365)
    loaded = ClvModel.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(model.predict_revenue(frame), loaded.predict_revenue(frame))
    np.testing.assert_array_equal(model.predict_churn(frame), loaded.predict_churn(frame))
    contributions = loaded.contributions(frame)
    # SHAP contributions add up to the raw prediction.
    np.testing.assert_allclose(contributions.sum(axis=1), regressor.predict(xgb.DMatrix(x)), rtol=1e-4, atol=1e-3)
    # So do the approximate contributions (`score --reasons approx`), though split differently.
    approx = loaded.contributions(frame, approx=True)
    np.testing.assert_allclose(approx.sum(axis=1), regressor.predict(xgb.DMatrix(x)), rtol=1e-4, atol=1e-3)


def _manifest(tmp_path, columns):
    path = tmp_path / "manifest.json"
    node = {"resource_type": "model", "name": "fct_clv_training_examples", "columns": columns}
    path.write_text(json.dumps({"nodes": {"model.clv_warehouse.fct_clv_training_examples": node}}))
    return path


def test_feature_spec_reads_roles_in_order(tmp_path):
    path = _manifest(
        tmp_path,
        {
            "customer_id": {"meta": {"ml_role": "id"}},
            "tenure_days": {"meta": {"ml_role": "feature"}},
            "country": {"config": {"meta": {"ml_role": "categorical"}}},
            "frequency": {"meta": {"ml_role": "feature"}},
            "split": {"meta": {}},
            "revenue_next_horizon_usd": {"meta": {"ml_role": "label"}},
        },
    )
    spec = feature_spec_from_manifest(path)
    assert spec.numeric == ["tenure_days", "frequency"] and spec.categorical == ["country"]
    assert spec.ids == ["customer_id"] and spec.labels == ["revenue_next_horizon_usd"]


def test_feature_spec_rejects_unknown_roles(tmp_path):
    path = _manifest(tmp_path, {"x": {"meta": {"ml_role": "feature"}}, "y": {"meta": {"ml_role": "target"}}})
    with pytest.raises(ValueError, match=r"fct_clv_training_examples.y: unknown ml_role 'target'"):
        feature_spec_from_manifest(path)


def test_btyd_margin_applies_to_revenue_not_churn():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "frequency": rng.integers(0, 5, 100),
            "country": rng.choice(["FR", "UK"], 100),
            "btyd_p_alive": rng.random(100),
            "btyd_expected_purchases": rng.random(100) * 3,
            "btyd_expected_order_value_usd": 20 + rng.random(100),
        }
    )
    encoder = Encoder.fit(frame, SPEC)
    x = encoder.transform(frame)
    churn = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=x[:, 0] > 2), 5)
    regressor = xgb.train({"objective": "reg:tweedie", "nthread": 1}, xgb.DMatrix(x, label=x[:, 0]), 5)
    model = ClvModel(encoder, regressor, churn, "btyd_margin:reg:tweedie", 1.0, 365)
    np.testing.assert_allclose(model.predict_churn(frame), churn.predict(xgb.DMatrix(x)), rtol=1e-6)
    margin = np.log(frame["btyd_expected_purchases"] * frame["btyd_expected_order_value_usd"]).to_numpy()
    np.testing.assert_allclose(
        model.predict_revenue(frame), regressor.predict(xgb.DMatrix(x, base_margin=margin)), rtol=1e-5
    )
    assert not np.allclose(model.predict_revenue(frame), regressor.predict(xgb.DMatrix(x)))


def test_tuning_never_loses_to_the_configured_parameters_on_valid_and_is_seeded():
    from clv_jobs.train import TuneBudget, load_model_config, tune_xgboost

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 4)).astype(np.float32)
    y = np.exp(x[:, 0] + 0.5 * x[:, 1] * x[:, 2]) + rng.gamma(1.0, 0.2, 3000)
    config = load_model_config()
    args = (config, "reg:squarederror", x[:2000], y[:2000], None, x[2000:], y[2000:], None, TuneBudget(trials=5))
    params, rounds, summary = tune_xgboost(*args, progress=lambda m: None)
    assert summary["trials"] == 5
    assert summary["best_valid_gini"] >= summary["configured_valid_gini"]
    assert 2 <= params["max_depth"] <= 6 and 0.01 <= params["learning_rate"] <= 0.3
    assert 1 <= rounds <= config["xgboost"]["n_estimators"]
    again = tune_xgboost(*args, progress=lambda m: None)
    assert again[0] == params and again[1] == rounds
