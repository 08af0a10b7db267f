variable "name_prefix" {
  description = "Prefix of the Glue databases: <prefix>_raw and <prefix>_ml (the dbt run-operation create_lake_external_tables takes it as glue_database)."
  type        = string
}

variable "lake_bucket_name" {
  description = "The lake bucket whose raw/ and ml/ prefixes the databases describe."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
