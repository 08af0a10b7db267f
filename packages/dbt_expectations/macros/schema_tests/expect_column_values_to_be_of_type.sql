{#- Fails when the column's data type is not `column_type` (compared case-insensitively), or when
    the column does not exist. -#}
{% test expect_column_values_to_be_of_type(model, column_name, column_type) %}
{%- set unquoted = column_name | replace('"', '') | replace('`', '') -%}
{%- set actual = [] -%}
{%- for name, dtype in dbt_expectations.column_types(model) -%}
    {%- if name | upper == unquoted | upper -%}{%- do actual.append(dtype | upper) -%}{%- endif -%}
{%- endfor -%}
{%- set found = actual[0] if actual else "<missing column>" -%}
with validation_errors as (
    {{ dbt_expectations.literal_rows([(unquoted, found, column_type | upper)],
                                     ["column_name", "actual_type", "expected_type"]) }}
)

select * from validation_errors
where actual_type <> expected_type
{% endtest %}
