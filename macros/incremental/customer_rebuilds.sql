{#- Models rebuilt by customer (ADR 0018). Each row carries `built_at`, the start of the dbt run
    that wrote it. A nightly build deletes the customers whose input rows were written after its
    own newest row (every customer when an input was rebuilt in full since), then inserts the
    customers it no longer holds, from the same SQL as a full build. A run that fails or is
    skipped leaves its newest row where it was, so the next run picks up what it missed. -#}

{#- `also_rebuild_all_when`: a Jinja call, made when the hook runs, giving a SQL condition. -#}
{% macro customer_rebuild_config(inputs, sort, also_rebuild_all_when=none) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': "{{ delete_customers_to_rebuild(" ~ tojson(inputs) ~ ", " ~ (also_rebuild_all_when or 'none') ~ ") }}",
        'dist': 'customer_id',
        'sort': sort,
        'meta': {'customer_rebuild_inputs': inputs},
    }) }}
{%- endmacro %}

{#- The customers with a row in one of `inputs` written after `after` (a SQL timestamp). -#}
{% macro customers_written_after(inputs, after) -%}
    {%- for input in inputs %}
        select customer_id from {{ ref(input) }} where built_at > {{ after }}
        {{- "\n        union" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Pre-hook. `inputs`: names of the models read, each with customer_id and built_at.
    `also_rebuild_all_when`: a SQL condition that also empties the model (e.g. a moved cap). -#}
{% macro delete_customers_to_rebuild(inputs, also_rebuild_all_when=none) -%}
    {%- if is_incremental() -%}
    {%- set newest -%}(select max(built_at) from {{ this }}){%- endset -%}
    delete from {{ this }}
    where
        customer_id in ({{ customers_written_after(inputs, newest) }}
        )
        {%- for input in inputs %}
        or (select min(built_at) from {{ ref(input) }}) > {{ newest }}
        {%- endfor %}
        or {{ also_rebuild_all_when or '1 = 0' }}
    {%- endif -%}
{%- endmacro %}

{#- A SQL predicate on `column`: the customer is not in the model yet (after the pre-hook).
    Every such customer that has rows to write has an input row written after the model's newest
    row (the pre-hook deleted it for one, or it is new), so the check looks only among those
    candidates: probing the model for a few thousand customers instead of anti-joining every
    input row against every row it holds (4-5x faster at 1M customers). -#}
{% macro customer_not_built(column) -%}
    {%- if is_incremental() -%}
    {%- set newest -%}
        (select coalesce(max(built_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }})
    {%- endset -%}
    {%- set candidates = customers_written_after(config.get('meta')['customer_rebuild_inputs'], newest) -%}
        {{ column }} in ({{ candidates }}
        )
        and {{ column }} not in (
            select built.customer_id from {{ this }} as built
            where built.customer_id in ({{ candidates }}
            )
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
