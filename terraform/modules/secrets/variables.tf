variable "name" {
  description = "Name of the secret that holds the PII hash salt (CLV_PII_SALT)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secret."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
