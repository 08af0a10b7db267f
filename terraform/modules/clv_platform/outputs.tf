output "lake_uri" {
  description = "The lake's root for clv-jobs register-partitions and the dbt run-operations."
  value       = "s3://${module.lake.lake_bucket_name}/lake"
}

output "glue_database_prefix" {
  description = "glue_database argument of dbt run-operation create_lake_external_tables."
  value       = replace(local.name, "-", "_")
}

output "redshift_host" {
  description = "CLV_REDSHIFT_HOST for the dbt prod profile."
  value       = module.redshift.redshift_workgroup_endpoint
}

output "redshift_spectrum_role_arn" {
  description = "iam_role of create_lake_external_tables and CLV_REDSHIFT_UNLOAD_ROLE_ARN."
  value       = module.redshift.redshift_spectrum_role_arn
}

output "sagemaker_role_arn" {
  description = "Execution role of the SageMaker jobs."
  value       = module.sagemaker.sagemaker_role_arn
}

output "unload_s3_uri" {
  description = "CLV_UNLOAD_S3_URI: where Redshift UNLOADs what the jobs read (the Spectrum role may write only there)."
  value       = "s3://${module.lake.lake_bucket_name}/unload"
}

output "sagemaker_s3_uri" {
  description = "CLV_SAGEMAKER_S3_URI: where the SageMaker jobs' inputs and outputs are staged."
  value       = "s3://${module.lake.lake_bucket_name}/sagemaker"
}

output "sagemaker_image_repository_url" {
  description = "Push the image of docker/sagemaker/Dockerfile here; CLV_SAGEMAKER_IMAGE_URI is <url>:<tag>."
  value       = module.image.repository_url
}

output "pii_salt_secret_arn" {
  description = "Secret to read into CLV_PII_SALT."
  value       = module.secrets.pii_salt_secret_arn
}

output "alerts_topic_arns" {
  description = "SNS topic per alert tier: CLV_ALERT_TOPIC_ARN_HIGH, _MEDIUM and _LOW for the workers."
  value       = module.alerts.alerts_topic_arns
}

output "operations_dashboard_name" {
  description = "CloudWatch dashboard of the jobs' metrics (failed tasks, retrain, drift) and the alarms."
  value       = module.alerts.operations_dashboard_name
}
