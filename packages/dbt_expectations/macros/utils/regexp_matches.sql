{#- A boolean expression: does `expression` match `regex`? One dispatched macro because
    every engine spells it differently. `flags` may contain "i" (case-insensitive). -#}
{% macro regexp_matches(expression, regex, flags="") %}
    {{ return(adapter.dispatch('regexp_matches', 'dbt_expectations')(expression, regex, flags)) }}
{% endmacro %}

{% macro default__regexp_matches(expression, regex, flags) -%}
    regexp_instr({{ expression }}, '{{ regex }}', 1, 1, 0, '{{ "i" if "i" in flags else "c" }}') > 0
{%- endmacro %}

{% macro duckdb__regexp_matches(expression, regex, flags) -%}
    regexp_matches({{ expression }}, '{{ regex }}'{% if "i" in flags %}, 'i'{% endif %})
{%- endmacro %}

{% macro postgres__regexp_matches(expression, regex, flags) -%}
    ({{ expression }} {{ "~*" if "i" in flags else "~" }} '{{ regex }}')
{%- endmacro %}

{% macro redshift__regexp_matches(expression, regex, flags) -%}
    regexp_instr({{ expression }}, '{{ regex }}', 1, 1, 0, '{{ "ip" if "i" in flags else "p" }}') > 0
{%- endmacro %}
