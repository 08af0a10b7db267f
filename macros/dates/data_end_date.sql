{#- The data's last observed date as a SQL expression: the `clv_data_end_date` var, else the
    given aggregate expression (e.g. max(invoice_date)). -#}
{% macro data_end_date(default_expression) -%}
    {%- if var('clv_data_end_date') -%}
        cast('{{ var("clv_data_end_date") }}' as date)
    {%- else -%}
        {{ default_expression }}
    {%- endif -%}
{%- endmacro %}
