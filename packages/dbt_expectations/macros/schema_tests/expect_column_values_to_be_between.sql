{% test expect_column_values_to_be_between(model, column_name, min_value=none, max_value=none,
                                           row_condition=none, strictly=false) %}
{{ dbt_expectations.expression_between(model, column_name, min_value, max_value, none, row_condition, strictly) }}
{% endtest %}
