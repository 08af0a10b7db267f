variable "name" {
  description = "Name of the SNS topic and prefix of the alarms."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the topic."
  type        = string
}

variable "email_endpoints" {
  description = "Addresses subscribed to the alerts (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
