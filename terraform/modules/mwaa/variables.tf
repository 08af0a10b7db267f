variable "name" {
  description = "Name of the MWAA environment."
  type        = string
}

variable "source_bucket_arn" {
  description = "Bucket holding dags/ (orchestration/dags) and requirements.txt for MWAA."
  type        = string
}

variable "execution_role_arn" {
  description = "Role MWAA runs the DAGs as."
  type        = string
}

variable "subnet_ids" {
  description = "Two private subnets for the environment."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the environment."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the environment."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
