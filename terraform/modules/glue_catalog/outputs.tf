output "glue_database_raw_name" {
  description = "Glue database of the raw landings."
  value       = aws_glue_catalog_database.raw.name
}

output "glue_database_ml_name" {
  description = "Glue database of the ML outputs."
  value       = aws_glue_catalog_database.ml.name
}

output "glue_database_arns" {
  description = "ARNs of both Glue databases."
  value       = [aws_glue_catalog_database.raw.arn, aws_glue_catalog_database.ml.arn]
}
