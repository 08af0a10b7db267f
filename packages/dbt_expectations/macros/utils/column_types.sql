{#- [(name, data_type)] of a relation, in order. A relation the catalog does not know (a DuckDB
    source read through external_location, say) is described from an empty query instead. -#}
{% macro column_types(model) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(model) -%}
    {%- if columns | length == 0 -%}
        {%- set columns = adapter.get_column_schema_from_query("select * from " ~ model ~ " where 1 = 0") -%}
    {%- endif -%}
    {%- set pairs = [] -%}
    {%- for column in columns -%}
        {%- do pairs.append((column.name, column.dtype)) -%}
    {%- endfor -%}
    {{ return(pairs) }}
{% endmacro %}

{#- A one-row-per-item `select` of string literals, to report mismatches as failing rows. -#}
{% macro literal_rows(rows, column_names) %}
    {%- for row in rows -%}
    select {% for value in row %}cast('{{ value | string | replace("'", "''") }}' as {{ dbt.type_string() }}) as {{ column_names[loop.index0] }}{{ ", " if not loop.last }}{% endfor %}
    {{ "union all" if not loop.last }}
    {% endfor -%}
{% endmacro %}
