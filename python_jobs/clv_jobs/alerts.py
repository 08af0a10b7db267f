"""Tiered alerts (DESIGN §7's alerting table) and the CloudWatch metrics the Terraform alarms watch.

Tiers: high (a pipeline fails; a critical data-quality check fails), medium (a retrain trigger:
prediction or key-feature PSI > 0.25, a 30-day proxy drop > 20 %), low (PSI in 0.1-0.25; a
non-critical data-quality check). Every alert is a row of `lake/ml/alerts/` (published as
`fct_alerts`) and is routed by tier: to the SNS topic in `CLV_ALERT_TOPIC_ARN_<TIER>` when set
(Terraform creates one topic per tier; PagerDuty, Slack or e-mail subscribe to it), else printed
on stderr, the local default.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import date

__all__ = ["Alert", "NAMESPACE", "TIERS", "route", "raise_alerts", "alerts_configured", "put_monitor_metrics"]

NAMESPACE = "clv-warehouse"
TIERS = ("high", "medium", "low")


@dataclass(frozen=True)
class Alert:
    """One alert: tier high (a pipeline or a critical data-quality check failed), medium (a
    retrain trigger: drift or proxy) or low (early drift, a non-critical check)."""

    tier: str
    rule_name: str
    message: str


def route(tier: str) -> str:
    """Where an alert of `tier` goes: an SNS topic ARN, or "stderr"."""
    if tier not in TIERS:
        raise ValueError(f"alert tier {tier!r} is not one of {TIERS}")
    return os.environ.get(f"CLV_ALERT_TOPIC_ARN_{tier.upper()}") or "stderr"


def raise_alerts(
    lake_dir,
    alerts: list,
    raised_by: str,
    model_version: str = "",
    as_of_date: date | None = None,
    sns=None,
    stream=None,
) -> list[dict]:
    """Route each `Alert` and land it as a row of
    `ml/alerts/` (one partition per alert). Returns the rows."""
    from clv_jobs import ml_contracts, registry

    rows = []
    for i, alert in enumerate(alerts):
        destination = route(alert.tier)
        raised_at = registry.now_utc()
        row = {
            "tier": alert.tier,
            "rule_name": alert.rule_name,
            "raised_by": raised_by,
            "model_version": str(model_version),
            "as_of_date": as_of_date,
            "message": alert.message,
            "route": destination,
            "raised_at": raised_at,
        }
        if destination == "stderr":
            print(f"ALERT [{alert.tier}] {alert.rule_name}: {alert.message}", file=stream or sys.stderr)
        else:
            if sns is None:
                import boto3

                sns = boto3.client("sns")
            sns.publish(
                TopicArn=destination,
                Subject=f"clv-warehouse {alert.tier}: {alert.rule_name}"[:100],
                Message=json.dumps({**row, "as_of_date": str(as_of_date), "raised_at": str(raised_at)}),
            )
        ml_contracts.write(lake_dir, "alerts", f"{raised_by}-{raised_at:%Y%m%dT%H%M%S%f}-{i}", [row])
        rows.append(row)
    return rows


def alerts_configured() -> bool:
    """Alerting is configured (as on the production workers): a tier has an SNS topic."""
    return any(os.environ.get(f"CLV_ALERT_TOPIC_ARN_{tier.upper()}") for tier in TIERS)


def put_monitor_metrics(retrain: bool, columns_alert: int, columns_warn: int, client=None) -> bool:
    """`RetrainRecommended` (1 or 0: the drift alarm fires on 1) and the counts of drifted
    columns. No dimensions: the alarms watch the plain metric. Returns whether it put them."""
    if not alerts_configured():
        return False
    if client is None:
        import boto3

        client = boto3.client("cloudwatch")
    client.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": "RetrainRecommended", "Value": 1.0 if retrain else 0.0, "Unit": "Count"},
            {"MetricName": "DriftColumnsAlert", "Value": float(columns_alert), "Unit": "Count"},
            {"MetricName": "DriftColumnsWarn", "Value": float(columns_warn), "Unit": "Count"},
        ],
    )
    return True
