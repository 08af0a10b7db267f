output "alerts_topic_arn" {
  description = "SNS topic of the alerts (CLV_ALERT_TOPIC_ARN for the DAGs)."
  value       = aws_sns_topic.this.arn
}
