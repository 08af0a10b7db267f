# Managed Airflow for orchestration/dags (the envs enable it with enable_mwaa; off by default:
# the DAGs also run on any Airflow 3 that can reach the warehouse).
resource "aws_mwaa_environment" "this" {
  name                  = var.name
  airflow_version       = "3.0.6"
  source_bucket_arn     = var.source_bucket_arn
  dag_s3_path           = "dags/"
  requirements_s3_path  = "requirements.txt"
  execution_role_arn    = var.execution_role_arn
  kms_key               = var.kms_key_arn
  webserver_access_mode = "PRIVATE_ONLY"
  max_workers           = 2

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = "INFO"
    }
    scheduler_logs {
      enabled   = true
      log_level = "INFO"
    }
    task_logs {
      enabled   = true
      log_level = "INFO"
    }
    webserver_logs {
      enabled   = true
      log_level = "WARNING"
    }
    worker_logs {
      enabled   = true
      log_level = "INFO"
    }
  }

  tags = var.tags
}
