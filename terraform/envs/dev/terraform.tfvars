region = "eu-west-1"

platform = {
  environment                 = "dev"
  lake_bucket_name            = "clv-warehouse-dev-lake-CHANGE-ME"
  subnet_ids                  = ["subnet-CHANGE-ME-a", "subnet-CHANGE-ME-b", "subnet-CHANGE-ME-c"]
  security_group_ids          = ["sg-CHANGE-ME"]
  redshift_base_capacity_rpus = 8
}
