{% test expect_column_mean_to_be_between(model, column_name, min_value=none, max_value=none,
                                         group_by=none, row_condition=none, strictly=false) %}
{{ dbt_expectations.expression_between(model, "avg(" ~ column_name ~ ")", min_value, max_value, group_by,
                                       row_condition, strictly) }}
{% endtest %}
