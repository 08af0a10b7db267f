{% test expect_table_row_count_to_be_between(model, min_value=none, max_value=none, group_by=none,
                                             row_condition=none, strictly=false) %}
{{ dbt_expectations.expression_between(model, "count(*)", min_value, max_value, group_by, row_condition, strictly) }}
{% endtest %}
