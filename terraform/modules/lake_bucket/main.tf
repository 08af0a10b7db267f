# The lake: raw/ (landings), ml/ (what clv-jobs writes), unload/ (Redshift UNLOADs), sagemaker/ (jobs' staging), models/.
resource "aws_kms_key" "this" {
  description         = "Encrypts the ${var.name} lake"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is this key only; the account root administers it, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_356:Same: in a key policy, "*" is the key itself.
  #checkov:skip=CKV_AWS_109:Same: permissions management on this key stays with the account, and roles get use via their own policies.
  # The account administers the key; services get access through their roles' policies.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication: the lake is rebuilt from the source systems; a second region is not worth its cost here.
  #checkov:skip=CKV2_AWS_62:Event notifications: partitions are registered by the nightly DAG (clv-jobs register-partitions), not by events.
  #checkov:skip=CKV_AWS_18:Server access logs: data access is audited with CloudTrail S3 data events at the account level.
  bucket = var.name
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-unloads"
    status = "Enabled"
    filter {
      prefix = "unload/"
    }
    expiration {
      days = 7
    }
  }

  # The SageMaker jobs' staged inputs and outputs (clv-jobs --backend sagemaker): the model is
  # copied into MLflow and the scores into ml/ when the command finishes; --attach needs them
  # only until then.
  rule {
    id     = "expire-sagemaker-staging"
    status = "Enabled"
    filter {
      prefix = "sagemaker/"
    }
    expiration {
      days = 30
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json
}
