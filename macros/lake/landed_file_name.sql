{#- The name of the lake file a raw row came from (the last part of its path), to match the
    landing ledger: DuckDB's read_parquet(filename = true) and `clv-jobs load-raw` give the path
    as `filename`; Spectrum as the pseudo-column "$path". -#}
{% macro landed_file_name() -%}
    {{ return(adapter.dispatch('landed_file_name', 'clv_warehouse')()) }}
{%- endmacro %}

{% macro default__landed_file_name() -%}
    substring(filename from '[^/]+$')
{%- endmacro %}

{% macro duckdb__landed_file_name() -%}
    regexp_extract(filename, '[^/]+$')
{%- endmacro %}

{% macro redshift__landed_file_name() -%}
    regexp_substr("$path", '[^/]+$')
{%- endmacro %}
