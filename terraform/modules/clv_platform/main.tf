# The whole clv-warehouse AWS side, composed once: envs/dev and envs/prod call this module with
# their own variables (terraform.tfvars) and add nothing else but the provider.

locals {
  name = "clv-${var.environment}"
  tags = merge(var.tags, { project = "clv-warehouse", environment = var.environment, managed_by = "terraform" })
}

module "lake" {
  source = "../lake_bucket"
  name   = var.lake_bucket_name
  tags   = local.tags
}

module "glue" {
  source           = "../glue_catalog"
  name_prefix      = replace(local.name, "-", "_")
  lake_bucket_name = module.lake.lake_bucket_name
  tags             = local.tags
}

module "redshift" {
  source              = "../redshift_serverless"
  name                = local.name
  base_capacity_rpus  = var.redshift_base_capacity_rpus
  subnet_ids          = var.subnet_ids
  security_group_ids  = var.security_group_ids
  lake_bucket_arn     = module.lake.lake_bucket_arn
  lake_kms_key_arn    = module.lake.lake_kms_key_arn
  glue_database_names = [module.glue.glue_database_raw_name, module.glue.glue_database_ml_name]
  tags                = local.tags
}

module "sagemaker" {
  source           = "../sagemaker_role"
  name             = "${local.name}-sagemaker"
  lake_bucket_arn  = module.lake.lake_bucket_arn
  lake_kms_key_arn = module.lake.lake_kms_key_arn
  tags             = local.tags
}

module "image" {
  source      = "../image_repository"
  name        = "${local.name}-sagemaker"
  kms_key_arn = module.lake.lake_kms_key_arn
  tags        = local.tags
}

module "secrets" {
  source      = "../secrets"
  name        = "${local.name}/pii-salt"
  kms_key_arn = module.lake.lake_kms_key_arn
  tags        = local.tags
}

module "alerts" {
  source        = "../alerts"
  name          = "${local.name}-alerts"
  kms_key_arn   = module.lake.lake_kms_key_arn
  subscriptions = var.alert_subscriptions
  tags          = local.tags
}

module "mwaa" {
  source             = "../mwaa"
  count              = var.enable_mwaa ? 1 : 0
  name               = local.name
  source_bucket_arn  = module.lake.lake_bucket_arn
  execution_role_arn = var.mwaa_execution_role_arn
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  kms_key_arn        = module.lake.lake_kms_key_arn
  tags               = local.tags
}
