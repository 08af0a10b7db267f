{#- Rows of `model` (or groups, when group_by_columns is given and `expression` aggregates)
    for which `expression` is not true. A null result counts as a failure. -#}
{% macro expression_is_true(model, expression, group_by_columns=none, row_condition=none) %}
with grouped_expression as (
    select
        {% if group_by_columns -%}
        {% for column in group_by_columns -%}
        {{ column }} as col_{{ loop.index }},
        {% endfor -%}
        {%- endif %}
        {{ expression }} as expression
    from {{ model }}
    {% if row_condition -%}
    where {{ row_condition }}
    {%- endif %}
    {% if group_by_columns -%}
    group by {% for column in group_by_columns %}{{ column }}{{ ", " if not loop.last }}{% endfor %}
    {%- endif %}
),

validation_errors as (
    select *
    from grouped_expression
    where not (expression = true) or expression is null
)

select * from validation_errors
{% endmacro %}
