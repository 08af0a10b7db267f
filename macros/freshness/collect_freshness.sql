{#-
    dbt's freshness query with one change: "now" is the var clv_freshness_as_of when set (the
    Airflow run's logical date, or a backfill's), else the warehouse's current time. A nightly
    run for a past day then judges the landings as they stood that day, not as they stand today.
-#}
{% macro default__collect_freshness(source, loaded_at_field, filter) %}
    {%- set as_of = var('clv_freshness_as_of', none) -%}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {% if as_of -%}
                cast('{{ as_of }}' as timestamp)
            {%- else -%}
                {{ current_timestamp() }}
            {%- endif %} as snapshotted_at
        from {{ source }}
        {% if filter %}
            where {{ filter }}
        {% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}
