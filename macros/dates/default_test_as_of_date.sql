{#- The test as-of date as a SQL expression over a column holding the data's last date: the
    `clv_test_as_of_date` var, else the latest month end whose label window is complete. -#}
{% macro default_test_as_of_date(data_end_date_expression) -%}
    {%- if var('clv_test_as_of_date') -%}
        cast('{{ var("clv_test_as_of_date") }}' as date)
    {%- else -%}
        {{ month_end_on_or_before(dbt.dateadd('day', -1 * var('clv_horizon_days'), data_end_date_expression)) }}
    {%- endif -%}
{%- endmacro %}
