"""The model as saved and served: the encoder, the round trip, the BTYD margin, the config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from clv_jobs.features import FeatureSpec
from clv_jobs.model import BTYD_FEATURES, ClvModel, Encoder, load_model_config

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


def test_config_overrides_apply_key_by_key_and_name_a_bad_key(tmp_path, monkeypatch):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text("[gates]\nmin_normalized_gini = 0.1\nchampion_tolerance = 0.5\n")
    second.write_text("[gates]\nchampion_tolerance = 0.9\n")
    monkeypatch.setenv("CLV_MODEL_CONFIG", f"{first}:{second}")
    gates = load_model_config()["gates"]
    assert (gates["min_normalized_gini"], gates["champion_tolerance"]) == (0.1, 0.9)
    assert gates["min_disparate_impact_ratio"] == 0.8  # untouched keys keep the packaged value
    second.write_text("[gates]\nchampion_tolerence = 0.9\n")
    with pytest.raises(ValueError, match=r"\['champion_tolerence'\] not in \[gates\]"):
        load_model_config()


def _btyd_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "frequency": rng.integers(0, 5, n),
            "country": rng.choice(["FR", "UK"], n),
            "btyd_p_alive": rng.uniform(0.05, 1.0, n),
            "btyd_expected_purchases": rng.gamma(2.0, 1.0, n),
            "btyd_expected_order_value_usd": rng.gamma(4.0, 10.0, n),
        }
    )


def test_product_shapley_is_exact_and_adds_up():
    from clv_jobs.model import product_shapley

    rng = np.random.default_rng(2)
    factors, reference = rng.uniform(0.5, 3.0, (50, 3)), np.array([1.0, 2.0, 1.5])
    values = product_shapley(factors, reference)
    np.testing.assert_allclose(values.sum(axis=1), factors.prod(axis=1), rtol=1e-12)
    assert values[0, -1] == pytest.approx(3.0)
    # Two factors, by hand: phi_a = (a - a0)(b + b0) / 2.
    two = product_shapley(factors[:, :2], reference[:2])
    np.testing.assert_allclose(two[:, 0], (factors[:, 0] - 1.0) * (factors[:, 1] + 2.0) / 2, rtol=1e-12)
    # A customer at the reference in every factor but one owes the whole difference to it.
    at_reference = product_shapley(np.array([[1.0, 2.0, 3.0]]), reference)
    np.testing.assert_allclose(at_reference[0, :3], [0.0, 0.0, 2.0 * 1.5], atol=1e-12)


def test_btyd_family_has_no_regressor_round_trips_and_explains_in_its_own_terms(tmp_path):
    from clv_jobs.model import BTYD_FAMILY, BTYD_REASONS, btyd_revenue

    frame = _btyd_frame(300, 4)
    encoder = Encoder.fit(frame, SPEC)
    x = encoder.transform(frame)
    churn = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=x[:, 0] > 2), 5)
    model = ClvModel(encoder, None, churn, BTYD_FAMILY, 1.0, 365, blend_weight=0.0, calibration=0.8)
    assert model.family == BTYD_FAMILY and model.reason_names == BTYD_REASONS
    np.testing.assert_allclose(model.predict_revenue(frame), 0.8 * btyd_revenue(frame), rtol=1e-12)
    loaded = ClvModel.load(model.save(tmp_path / "btyd"))
    assert loaded.regressor is None and not (tmp_path / "btyd" / "regressor.json").exists()
    np.testing.assert_array_equal(loaded.predict_revenue(frame), model.predict_revenue(frame))
    contributions = loaded.contributions(frame)
    assert contributions.shape == (300, 4)
    np.testing.assert_allclose(contributions.sum(axis=1), loaded.predict_revenue(frame), rtol=1e-9)


def test_blend_weights_and_calibrates_both_families_and_its_reasons_add_up():
    from clv_jobs.model import BTYD_REASONS, btyd_revenue

    frame = _btyd_frame(400, 5)
    encoder = Encoder.fit(frame, SPEC)
    x = encoder.transform(frame)
    y = 30 * frame["frequency"].to_numpy(float) + 5
    churn = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y > 60), 5)
    for objective in ("reg:squarederror", "reg:tweedie", "log1p:squarederror"):
        target = np.log1p(y) if objective.startswith("log1p") else y
        params = {"objective": "reg:" + objective.removeprefix("log1p:").removeprefix("reg:"), "nthread": 1}
        regressor = xgb.train(params, xgb.DMatrix(x, label=target), 30)
        xgboost_only = ClvModel(encoder, regressor, churn, objective, 1.1, 365)
        blend = ClvModel(encoder, regressor, churn, objective, 1.1, 365, blend_weight=0.7, calibration=0.9)
        expected = 0.9 * (0.7 * xgboost_only.predict_revenue(frame) + 0.3 * btyd_revenue(frame))
        np.testing.assert_allclose(blend.predict_revenue(frame), expected, rtol=1e-6)
        assert blend.family == "blend" and blend.reason_names[-3:] == BTYD_REASONS
        contributions = blend.contributions(frame)
        assert contributions.shape == (400, len(encoder.feature_names) + 4)
        np.testing.assert_allclose(contributions.sum(axis=1), blend.predict_revenue(frame), rtol=1e-4, atol=1e-3)


def test_beyond_its_support_a_model_is_btyd_alone_uncalibrated_and_explained_in_usd(tmp_path):
    from clv_jobs.model import BTYD_REASONS, btyd_revenue

    frame = _btyd_frame(400, 6)
    encoder = Encoder.fit(frame, SPEC)
    x = encoder.transform(frame)
    y = 30 * frame["frequency"].to_numpy(float) + 5
    churn = xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(x, label=y > 60), 5)
    regressor = xgb.train({"objective": "reg:squarederror", "nthread": 1}, xgb.DMatrix(x, label=y), 30)
    trees = ClvModel(encoder, regressor, churn, "reg:squarederror", 1.0, 365, calibration=0.9)
    model = dataclasses.replace(trees, support_limits={"frequency": 2.0})
    beyond = frame["frequency"].to_numpy() > 2
    assert 0 < beyond.sum() < len(frame)
    np.testing.assert_array_equal(model.beyond_support(frame), beyond)
    predicted = model.predict_revenue(frame)
    np.testing.assert_allclose(predicted[beyond], btyd_revenue(frame)[beyond], rtol=1e-12)
    np.testing.assert_allclose(predicted[~beyond], trees.predict_revenue(frame)[~beyond], rtol=1e-12)
    assert model.family == "xgboost" and model.reason_names[-3:] == BTYD_REASONS
    contributions = model.contributions(frame)
    np.testing.assert_allclose(contributions.sum(axis=1), predicted, rtol=1e-4, atol=1e-3)
    # Beyond the support the trees' reasons are zero: the customer is explained by BTYD's factors.
    trees_columns = len(encoder.feature_names)
    assert not contributions[beyond, :trees_columns].any()
    assert contributions[~beyond, trees_columns:-1].sum() == 0
    loaded = ClvModel.load(model.save(tmp_path / "supported"))
    assert loaded.support_limits == {"frequency": 2.0}
    np.testing.assert_array_equal(loaded.predict_revenue(frame), predicted)
