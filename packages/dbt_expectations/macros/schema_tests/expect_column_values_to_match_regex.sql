{#- Rows whose value does not match `regex`. With is_raw, the pattern is passed through as
    written; otherwise single quotes are escaped for the SQL string literal. Nulls are skipped. -#}
{% test expect_column_values_to_match_regex(model, column_name, regex, row_condition=none, is_raw=false, flags="") %}
{%- set pattern = regex if is_raw else regex | replace("'", "''") -%}
{%- set not_null = column_name ~ " is not null" -%}
{{ dbt_expectations.expression_is_true(
    model,
    dbt_expectations.regexp_matches(column_name, pattern, flags),
    none,
    "(" ~ row_condition ~ ") and " ~ not_null if row_condition else not_null
) }}
{% endtest %}
