{#- Integers 0 .. upper_bound - 1 as column `n`, from cross-joined bits: portable to DuckDB,
    PostgreSQL and Redshift (where generate_series runs on the leader node only). -#}
{% macro generate_integers(upper_bound) %}
    {%- set ns = namespace(bits=1) -%}
    {%- for i in range(1, 64) -%}
        {%- if 2 ** ns.bits < upper_bound -%}{%- set ns.bits = ns.bits + 1 -%}{%- endif -%}
    {%- endfor -%}
    select *
    from (
        select
            {% for i in range(ns.bits) -%}
            bit_{{ i }}.b * {{ 2 ** i }}{{ " +" if not loop.last }}
            {% endfor -%} as n
        from
            {% for i in range(ns.bits) -%}
            (select 0 as b union all select 1 as b) as bit_{{ i }}{{ " cross join" if not loop.last }}
            {% endfor %}
    ) as integers
    where n < {{ upper_bound }}
{% endmacro %}
