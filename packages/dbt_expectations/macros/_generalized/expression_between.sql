{#- Rows (or groups) where `expression` is outside [min_value, max_value]; the shared body of
    the *_to_be_between tests. Either bound may be omitted, not both. -#}
{% macro expression_between(model, expression, min_value=none, max_value=none, group_by_columns=none,
                            row_condition=none, strictly=false) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("dbt_expectations: give min_value, max_value or both") }}
    {%- endif -%}
    {%- set lower_op = ">" if strictly else ">=" -%}
    {%- set upper_op = "<" if strictly else "<=" -%}
    {%- set checks = [] -%}
    {%- if min_value is not none -%}{%- do checks.append(expression ~ " " ~ lower_op ~ " " ~ min_value) -%}{%- endif -%}
    {%- if max_value is not none -%}{%- do checks.append(expression ~ " " ~ upper_op ~ " " ~ max_value) -%}{%- endif -%}
    {{ dbt_expectations.expression_is_true(model, checks | join(" and "), group_by_columns, row_condition) }}
{% endmacro %}
