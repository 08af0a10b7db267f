{#- Models rebuilt by customer (ADR 0018): a nightly build rewrites the customers whose input rows
    changed, found by comparing a per-customer fingerprint (a sum of row hashes, as in ADR 0017)
    of the input with the one of what the model holds, and deletes the customers the input no
    longer has. The config is incremental delete+insert on customer_id. -#}

{% macro customer_rebuild_config(pre_hook, sort) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'customer_id',
        'on_schema_change': 'fail',
        'pre_hook': pre_hook,
        'dist': 'customer_id',
        'sort': sort,
    }) }}
{%- endmacro %}

{#- One row per customer of `relation` (rows filtered by `where`): customer_id, fingerprint. -#}
{% macro customer_fingerprints(relation, columns, where='1 = 1') -%}
    select
        customer_id,
        {{ hash_sum(row_hash(columns)) }} as fingerprint
    from {{ relation }}
    where {{ where }}
    group by customer_id
{%- endmacro %}

{#- The customers of `latest` (a relation or CTE of customer_id, fingerprint) whose fingerprint
    `built` (the same, for what the model holds; a null fingerprint: rebuild) lacks or differs
    from. -#}
{% macro customers_changed(latest, built) -%}
    select latest.customer_id
    from {{ latest }} as latest
    left join {{ built }} as built
        on latest.customer_id = built.customer_id
    where
        built.fingerprint is null
        or built.fingerprint != latest.fingerprint
{%- endmacro %}

{#- Pre-hook: delete the customers the model holds that its input (`relation`, rows filtered by
    `where`) no longer has; delete+insert only replaces the customers it writes. -#}
{% macro delete_customers_gone(relation, where='1 = 1') -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where customer_id in (
        select customer_id from {{ this }}
        except
        select customer_id from {{ relation }} where {{ where }}
    )
    {%- endif -%}
{%- endmacro %}
