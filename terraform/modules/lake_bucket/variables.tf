variable "name" {
  description = "Name of the lake bucket (globally unique)."
  type        = string
}

variable "noncurrent_version_days" {
  description = "Days a replaced object version is kept (a partition rewrite leaves one)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
