data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  glue_catalog_arn = "arn:aws:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:catalog"
  glue_arns = concat(
    [local.glue_catalog_arn],
    [for db in var.glue_database_names : "arn:aws:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:database/${db}"],
    [for db in var.glue_database_names : "arn:aws:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${db}/*"],
  )
}

# Spectrum and UNLOAD: least privilege. Read raw/ and ml/, write only unload/, the two Glue
# databases, the lake's key.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "spectrum" {
  name               = "${var.name}-spectrum"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "spectrum" {
  statement {
    sid       = "ListLakePrefixes"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["lake/raw/*", "lake/ml/*", "unload/*"]
    }
  }
  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/lake/raw/*", "${var.lake_bucket_arn}/lake/ml/*"]
  }
  statement {
    sid       = "WriteUnloads"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.lake_bucket_arn}/unload/*"]
  }
  statement {
    sid = "GlueCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:DeleteTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
    ]
    resources = local.glue_arns
  }
  statement {
    sid       = "LakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.lake_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "spectrum" {
  name   = "${var.name}-spectrum"
  role   = aws_iam_role.spectrum.id
  policy = data.aws_iam_policy_document.spectrum.json
}

resource "aws_redshiftserverless_namespace" "this" {
  namespace_name        = var.name
  db_name               = var.database_name
  admin_username        = "clv_admin"
  manage_admin_password = true # kept in Secrets Manager by Redshift; never in state or the repo
  kms_key_id            = var.lake_kms_key_arn
  iam_roles             = [aws_iam_role.spectrum.arn]
  default_iam_role_arn  = aws_iam_role.spectrum.arn
  log_exports           = ["userlog", "connectionlog", "useractivitylog"]
  tags                  = var.tags
}

resource "aws_redshiftserverless_workgroup" "this" {
  namespace_name       = aws_redshiftserverless_namespace.this.namespace_name
  workgroup_name       = var.name
  base_capacity        = var.base_capacity_rpus
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids
  publicly_accessible  = false
  enhanced_vpc_routing = true
  tags                 = var.tags
}
