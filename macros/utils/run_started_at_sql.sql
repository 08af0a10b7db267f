{#- The start of this dbt run, as a SQL timestamp: what a model stamps on the rows it writes
    (`built_at`) and what a later step of the same run looks them up by. -#}
{% macro run_started_at_sql() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
