output "redshift_workgroup_endpoint" {
  description = "Host for the dbt prod profile (CLV_REDSHIFT_HOST)."
  value       = aws_redshiftserverless_workgroup.this.endpoint[0].address
}

output "redshift_spectrum_role_arn" {
  description = "Role for create_lake_external_tables (iam_role) and UNLOAD (CLV_REDSHIFT_UNLOAD_ROLE_ARN)."
  value       = aws_iam_role.spectrum.arn
}

output "redshift_namespace_admin_secret_arn" {
  description = "Secrets Manager secret with the admin password Redshift manages."
  value       = aws_redshiftserverless_namespace.this.admin_password_secret_arn
}
