output "alerts_topic_arns" {
  description = "SNS topic ARN per tier (CLV_ALERT_TOPIC_ARN_HIGH, _MEDIUM, _LOW for the workers)."
  value       = { for tier, topic in aws_sns_topic.this : tier => topic.arn }
}

output "operations_dashboard_name" {
  description = "The CloudWatch dashboard of the jobs' metrics and alarms."
  value       = aws_cloudwatch_dashboard.operations.dashboard_name
}
