{#- The last calendar month end on or before a date expression (as a date). -#}
{% macro month_end_on_or_before(date_expression) -%}
    cast({{ dbt.dateadd('day', -1, dbt.date_trunc('month', dbt.dateadd('day', 1, date_expression))) }} as date)
{%- endmacro %}
