{#- [(name, data_type)] of a relation, in order. A DuckDB source read through external_location
    is not in the catalog, so it is described from an empty query instead. -#}
{% macro column_types(model) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- if model.external is defined and model.external -%}
        {%- set columns = adapter.get_column_schema_from_query("select * from " ~ model ~ " where 1 = 0") -%}
    {%- else -%}
        {%- set columns = adapter.get_columns_in_relation(model) -%}
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
