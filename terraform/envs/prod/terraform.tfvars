region = "eu-west-1"

platform = {
  environment                 = "prod"
  lake_bucket_name            = "clv-warehouse-prod-lake-CHANGE-ME"
  subnet_ids                  = ["subnet-CHANGE-ME-a", "subnet-CHANGE-ME-b", "subnet-CHANGE-ME-c"]
  security_group_ids          = ["sg-CHANGE-ME"]
  redshift_base_capacity_rpus = 32
  alert_subscriptions = {
    high   = [{ protocol = "https", endpoint = "https://events.pagerduty.com/integration/CHANGE-ME/enqueue" }]
    medium = [{ protocol = "https", endpoint = "https://hooks.slack.com/services/CHANGE-ME" }]
    low    = [{ protocol = "email", endpoint = "data-platform@example.com" }]
  }
}
