{#- Fails with one row per position where the relation's columns differ from `column_list`
    (names compared after `transform`: upper or lower). -#}
{% test expect_table_columns_to_match_ordered_list(model, column_list, transform="upper") %}
{%- set actual = [] -%}
{%- for name, dtype in dbt_expectations.column_types(model) -%}
    {%- do actual.append(name | upper if transform == "upper" else name | lower) -%}
{%- endfor -%}
{%- set mismatches = [] -%}
{%- for i in range([actual | length, column_list | length] | max) -%}
    {%- set got = actual[i] if i < actual | length else "<none>" -%}
    {%- set wanted = column_list[i] if i < column_list | length else "<none>" -%}
    {%- set wanted = wanted | upper if transform == "upper" else wanted | lower -%}
    {%- if got != wanted -%}{%- do mismatches.append((i + 1, got, wanted)) -%}{%- endif -%}
{%- endfor -%}
with validation_errors as (
    {% if mismatches -%}
    {{ dbt_expectations.literal_rows(mismatches, ["column_position", "actual_column", "expected_column"]) }}
    {%- else -%}
    select cast(null as {{ dbt.type_string() }}) as column_position from (select 1 as one) as empty_set where 1 = 0
    {%- endif %}
)

select * from validation_errors
{% endtest %}
