output "platform" {
  description = "Every output of modules/clv_platform: lake_uri, redshift_host, the roles, the S3 URIs, the image repository, the PII secret, the alert topics per tier."
  value       = module.platform
}
