"""CloudWatch metrics the Terraform alarms watch (terraform/modules/alerts), put only where
alerts are configured (`CLV_ALERT_TOPIC_ARN` set, as on the production workers): the monitor's
verdict each night. The DAGs' failure callback puts `FailedTasks` in the same namespace."""

from __future__ import annotations

import os

__all__ = ["NAMESPACE", "alerts_configured", "put_monitor_metrics"]

NAMESPACE = "clv-warehouse"


def alerts_configured() -> bool:
    return bool(os.environ.get("CLV_ALERT_TOPIC_ARN"))


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
