{#- Combinations of `column_list` that occur more than once. Rows whose values are all null are
    ignored, as upstream does by default. -#}
{% test expect_compound_columns_to_be_unique(model, column_list, row_condition=none, quote_columns=false) %}
{%- if not column_list -%}
    {{ exceptions.raise_compiler_error("expect_compound_columns_to_be_unique: column_list is empty") }}
{%- endif -%}
{%- set columns = [] -%}
{%- for column in column_list -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
with validation_errors as (
    select {{ columns | join(", ") }}, count(*) as n_rows
    from {{ model }}
    where
        not ({% for column in columns %}{{ column }} is null{{ " and " if not loop.last }}{% endfor %})
        {% if row_condition %}and ({{ row_condition }}){% endif %}
    group by {{ columns | join(", ") }}
    having count(*) > 1
)

select * from validation_errors
{% endtest %}
