variable "name" {
  description = "Name of the SageMaker execution role."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (training channels, models, scores)."
  type        = string
}

variable "lake_kms_key_arn" {
  description = "ARN of the lake's KMS key."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
