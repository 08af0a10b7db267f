variable "environment" {
  description = "Environment name, used in resource names and tags."
  type        = string
}

variable "lake_bucket_name" {
  description = "Globally unique name of the lake bucket."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for Redshift Serverless (and MWAA when enabled)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for Redshift Serverless (and MWAA when enabled)."
  type        = list(string)
}

variable "redshift_base_capacity_rpus" {
  description = "Base capacity of the Redshift Serverless workgroup (RPUs)."
  type        = number
  default     = 8
  nullable    = false
}

variable "alert_subscriptions" {
  description = "Subscriptions per alert tier (high, medium, low), e.g. PagerDuty's HTTPS endpoint on high, a Slack webhook on medium, e-mail on low."
  type        = map(list(object({ protocol = string, endpoint = string })))
  default     = {}
  nullable    = false
}

variable "enable_mwaa" {
  description = "Create a managed Airflow (MWAA) environment for orchestration/dags."
  type        = bool
  default     = false
  nullable    = false
}

variable "mwaa_execution_role_arn" {
  description = "Execution role for MWAA (needed when enable_mwaa is true)."
  type        = string
  default     = ""
  nullable    = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
