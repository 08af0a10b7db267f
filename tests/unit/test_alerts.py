"""Tiered alerts: routed by tier, landed as rows, printed when no topic is configured."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from clv_jobs import alerts
from clv_jobs.alerts import Alert


class FakeSns:
    """Records publish calls (boto3's SNS client API); the routing is what is under test."""

    def __init__(self):
        self.published = []

    def publish(self, **kwargs):
        self.published.append(kwargs)


def test_each_tier_goes_to_its_topic_and_lands_a_row(tmp_path, monkeypatch):
    monkeypatch.setenv("CLV_ALERT_TOPIC_ARN_HIGH", "arn:aws:sns:eu-west-1:1:clv-high")
    monkeypatch.delenv("CLV_ALERT_TOPIC_ARN_LOW", raising=False)
    sns, stream = FakeSns(), io.StringIO()
    raised = [Alert("high", "pipeline_failed", "clv_nightly.score failed"), Alert("low", "key_feature_psi", "x")]
    alerts.raise_alerts(tmp_path, raised, raised_by="test", sns=sns, stream=stream)
    assert [p["TopicArn"] for p in sns.published] == ["arn:aws:sns:eu-west-1:1:clv-high"]
    assert stream.getvalue() == "ALERT [low] key_feature_psi: x\n"
    landed = pd.read_parquet(tmp_path / "ml" / "alerts").sort_values("tier")
    assert landed[["tier", "rule_name", "route"]].values.tolist() == [
        ["high", "pipeline_failed", "arn:aws:sns:eu-west-1:1:clv-high"],
        ["low", "key_feature_psi", "stderr"],
    ]


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="alert tier 'urgent' is not one of"):
        alerts.route("urgent")
