# The PII salt keys the hash of customer identifiers in staging. Terraform creates the secret,
# not its value: set it once with `aws secretsmanager put-secret-value` (never in the repo or
# in Terraform state).
resource "aws_secretsmanager_secret" "pii_salt" {
  #checkov:skip=CKV2_AWS_57:Rotation would change every hashed customer key and break history; the salt is rotated only with a planned re-key.
  name        = var.name
  description = "Salt of the keyed PII hash (CLV_PII_SALT)"
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}
