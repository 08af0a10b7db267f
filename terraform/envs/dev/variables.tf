variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "platform" {
  description = "Inputs of modules/clv_platform (typed and documented there): environment, lake_bucket_name, subnet_ids, security_group_ids; optional redshift_base_capacity_rpus, alert_subscriptions, enable_mwaa, mwaa_execution_role_arn, tags."
  type        = any
}
