output "sagemaker_role_arn" {
  description = "Execution role for clv-jobs train/score --backend sagemaker."
  value       = aws_iam_role.this.arn
}
