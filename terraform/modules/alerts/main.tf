# Alerts in three tiers (python_jobs/clv_jobs/alerts.py): one SNS topic per tier, each with its
# own subscriptions (e.g. PagerDuty on high, Slack on medium, e-mail on low). The workers get
# CLV_ALERT_TOPIC_ARN_HIGH, _MEDIUM and _LOW: clv-jobs routes each alert to its tier's topic and
# lands it in fct_alerts. The alarms watch the metrics the jobs put: a failed DAG task
# (FailedTasks) pages the high tier; a retrain recommendation (RetrainRecommended) the medium.
locals {
  tiers = toset(["high", "medium", "low"])
  subscriptions = merge([
    for tier, endpoints in var.subscriptions : {
      for i, s in endpoints : "${tier}-${i}" => merge(s, { tier = tier })
    }
  ]...)
}

resource "aws_sns_topic" "this" {
  for_each          = local.tiers
  name              = "${var.name}-${each.key}"
  kms_master_key_id = var.kms_key_arn
  tags              = merge(var.tags, { alert_tier = each.key })
}

resource "aws_sns_topic_subscription" "this" {
  for_each  = local.subscriptions
  topic_arn = aws_sns_topic.this[each.value.tier].arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

resource "aws_cloudwatch_metric_alarm" "failed_jobs" {
  alarm_name          = "${var.name}-failed-jobs"
  alarm_description   = "A clv-warehouse task (landing check, dbt, train, score, monitor) failed after its retries."
  namespace           = "clv-warehouse"
  metric_name         = "FailedTasks"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this["high"].arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "drift_alert" {
  alarm_name          = "${var.name}-drift-alert"
  alarm_description   = "clv-jobs monitor recommended retraining (prediction or key-feature PSI, the 30-day proxy, or a matured backtest)."
  namespace           = "clv-warehouse"
  metric_name         = "RetrainRecommended"
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this["medium"].arn]
  tags                = var.tags
}

# The operations dashboard in production: the same metrics the alarms watch, and the alarms'
# states (the Streamlit Operations page shows the per-step detail from the warehouse).
data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "operations" {
  dashboard_name = "${var.name}-operations"
  dashboard_body = templatefile("${path.module}/operations_dashboard.json.tftpl", {
    region                = data.aws_region.current.name
    failed_jobs_alarm_arn = aws_cloudwatch_metric_alarm.failed_jobs.arn
    drift_alarm_arn       = aws_cloudwatch_metric_alarm.drift_alert.arn
  })
}
