{% test expect_column_distinct_count_to_be_less_than(model, column_name, value, row_condition=none, group_by=none) %}
{{ dbt_expectations.expression_is_true(model, "count(distinct " ~ column_name ~ ") < " ~ value, group_by, row_condition) }}
{% endtest %}
