output "mwaa_environment_arn" {
  description = "ARN of the MWAA environment."
  value       = aws_mwaa_environment.this.arn
}
