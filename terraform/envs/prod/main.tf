# A thin caller of the shared composition (modules/clv_platform): this environment's provider,
# and its inputs from terraform.tfvars (typed and documented in the module's variables.tf).
provider "aws" {
  region = var.region
}

module "platform" {
  source = "../../modules/clv_platform"

  environment                 = var.platform.environment
  lake_bucket_name            = var.platform.lake_bucket_name
  subnet_ids                  = var.platform.subnet_ids
  security_group_ids          = var.platform.security_group_ids
  redshift_base_capacity_rpus = try(var.platform.redshift_base_capacity_rpus, null)
  alert_subscriptions         = try(var.platform.alert_subscriptions, null)
  enable_mwaa                 = try(var.platform.enable_mwaa, null)
  mwaa_execution_role_arn     = try(var.platform.mwaa_execution_role_arn, null)
  tags                        = try(var.platform.tags, null)
}
