# The Glue databases behind the Spectrum external schemas. Their tables are created by
# `dbt run-operation create_lake_external_tables` from the same contracts as the local lake
# (macros/redshift/lake_tables.sql), so a column is defined in one place, not here as well.
resource "aws_glue_catalog_database" "raw" {
  name         = "${var.name_prefix}_raw"
  description  = "Raw landings: s3://${var.lake_bucket_name}/lake/raw/"
  location_uri = "s3://${var.lake_bucket_name}/lake/raw/"
  tags         = var.tags
}

resource "aws_glue_catalog_database" "ml" {
  name         = "${var.name_prefix}_ml"
  description  = "What clv-jobs lands: s3://${var.lake_bucket_name}/lake/ml/"
  location_uri = "s3://${var.lake_bucket_name}/lake/ml/"
  tags         = var.tags
}
