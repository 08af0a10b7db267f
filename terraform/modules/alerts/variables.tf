variable "name" {
  description = "Prefix of the tier topics (<name>-high, -medium, -low) and of the alarms."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the topics."
  type        = string
}

variable "subscriptions" {
  description = "Subscriptions per tier: protocol (https, email, lambda, ...) and endpoint."
  type        = map(list(object({ protocol = string, endpoint = string })))
  default     = {}

  validation {
    condition     = alltrue([for tier in keys(var.subscriptions) : contains(["high", "medium", "low"], tier)])
    error_message = "Alert tiers are high, medium and low."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
