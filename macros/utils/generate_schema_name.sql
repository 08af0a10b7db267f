{#- Custom schemas are used as named (staging, marts, ...) instead of dbt's <target>_<custom>,
    so analysts and BI tools see the same schema names on every engine. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
