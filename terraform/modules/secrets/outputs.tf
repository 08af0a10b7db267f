output "pii_salt_secret_arn" {
  description = "ARN of the PII salt secret (read into CLV_PII_SALT by the jobs' environment)."
  value       = aws_secretsmanager_secret.pii_salt.arn
}
