# Failed jobs and drift alerts. The DAGs' failure callback publishes to the topic and puts
# FailedTasks in the clv-warehouse namespace; clv-jobs monitor puts RetrainRecommended (1 or 0)
# each run. Both only where CLV_ALERT_TOPIC_ARN is set (python_jobs/clv_jobs/alerts.py).
resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.email_endpoints)
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "failed_jobs" {
  alarm_name          = "${var.name}-failed-jobs"
  alarm_description   = "A clv-warehouse task (dbt, train, score, monitor) failed after its retries."
  namespace           = "clv-warehouse"
  metric_name         = "FailedTasks"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "drift_alert" {
  alarm_name          = "${var.name}-drift-alert"
  alarm_description   = "clv-jobs monitor recommended retraining (a prediction or too many features in PSI alert, or a matured backtest fell)."
  namespace           = "clv-warehouse"
  metric_name         = "RetrainRecommended"
  statistic           = "Maximum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  tags                = var.tags
}
