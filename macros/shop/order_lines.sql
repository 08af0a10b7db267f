{#- Rules on order lines written once, for the models that read stg_shop__transaction_lines. -#}

{#- A line that no rule removed or quarantined: the lines features and labels are built from. -#}
{% macro is_published_line(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {{ prefix }}removed_by_rule is null and {{ prefix }}quarantine_rule is null
{%- endmacro %}

{#- A line's amount in USD at its currency's rate. -#}
{% macro line_amount_usd(quantity, unit_price_local, usd_per_unit) -%}
    cast({{ quantity }} * {{ unit_price_local }} * {{ usd_per_unit }} as {{ dbt.type_numeric() }})
{%- endmacro %}

{#- stg_shop__transactions' lines were capped at another amount than the cap now (a null cap is
    no cap): every line is rewritten. -#}
{% macro outlier_cap_moved() -%}
    coalesce((select max(line_amount_cap_usd) from {{ this }}), -1)
    != coalesce((select line_amount_cap_usd from {{ ref('stg_shop__line_amount_cap') }}), -1)
{%- endmacro %}
