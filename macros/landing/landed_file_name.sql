{#- Which lake file a raw row came from, to match the landing ledger. DuckDB's
    read_parquet(filename = true) and `clv-jobs load-raw` give the path as `filename`; Spectrum
    as the pseudo-column "$path". The ledger keys a file by its name (the path's last part). -#}
{% macro landed_file_path() -%}
    {{ return(adapter.dispatch('landed_file_path', 'clv_warehouse')()) }}
{%- endmacro %}

{% macro default__landed_file_path() -%}
    filename
{%- endmacro %}

{% macro redshift__landed_file_path() -%}
    "$path"
{%- endmacro %}


{% macro file_name_of(path) -%}
    {{ return(adapter.dispatch('file_name_of', 'clv_warehouse')(path)) }}
{%- endmacro %}

{% macro default__file_name_of(path) -%}
    substring({{ path }} from '[^/]+$')
{%- endmacro %}

{% macro duckdb__file_name_of(path) -%}
    regexp_extract({{ path }}, '[^/]+$')
{%- endmacro %}

{% macro redshift__file_name_of(path) -%}
    regexp_substr({{ path }}, '[^/]+$')
{%- endmacro %}


{#- The landed file's name of each raw row. -#}
{% macro landed_file_name() -%}
    {{ file_name_of(landed_file_path()) }}
{%- endmacro %}
