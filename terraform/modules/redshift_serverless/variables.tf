variable "name" {
  description = "Name of the Redshift Serverless namespace and workgroup."
  type        = string
}

variable "database_name" {
  description = "Database dbt builds into (the prod profile's CLV_REDSHIFT_DATABASE)."
  type        = string
  default     = "clv"
}

variable "base_capacity_rpus" {
  description = "Base capacity of the workgroup in Redshift Processing Units."
  type        = number
  default     = 8
}

variable "subnet_ids" {
  description = "Private subnets of the workgroup."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the workgroup."
  type        = list(string)
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket Spectrum reads and UNLOAD writes."
  type        = string
}

variable "lake_kms_key_arn" {
  description = "ARN of the lake's KMS key (also encrypts the namespace)."
  type        = string
}

variable "glue_database_names" {
  description = "Glue databases the Spectrum role may read and add tables and partitions to."
  type        = list(string)
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
