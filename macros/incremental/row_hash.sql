{#- A 60-bit non-negative integer hash of a row's columns, per engine. Summed over the rows
    behind an as-of date it fingerprints that date's inputs (int_as_of_date_fingerprints): any
    changed, added or removed row changes the sum. 60 bits so that a sum over billions of rows
    still fits decimal(38, 0) on every engine. Nulls hash as a marker of their own, so
    (null, 'a') and ('a', null) differ. -#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'clv_warehouse')(columns)) }}
{%- endmacro %}

{% macro _row_text(columns) -%}
    {%- for column in columns -%}
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '~'){{ " || '|' || " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    strtol(substring(md5({{ _row_text(columns) }}), 1, 15), 16)
{%- endmacro %}

{#- DuckDB hashes the typed values themselves. -#}
{% macro duckdb__row_hash(columns) -%}
    cast(hash({{ columns | join(', ') }}) >> 4 as bigint)
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    (hashtextextended({{ _row_text(columns) }}, 0) & 1152921504606846975)
{%- endmacro %}

{#- The sum of row hashes as decimal(38, 0), 0 when there are no rows. -#}
{% macro hash_sum(row_hash_expression) -%}
    coalesce(sum(cast({{ row_hash_expression }} as decimal(38, 0))), 0)
{%- endmacro %}
