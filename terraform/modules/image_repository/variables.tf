variable "name" {
  description = "Repository name; must start with clv- (the SageMaker role pulls from clv-*)."
  type        = string

  validation {
    condition     = startswith(var.name, "clv-")
    error_message = "The SageMaker execution role pulls from repositories named clv-* only."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
