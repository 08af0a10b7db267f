-- event_id is unique in stg_web__events. The events int_web_sessions has read were checked
-- before it read them (this test gates it, and a failure leaves its built_at where it was), so
-- a nightly build checks only the events staged since, each against every event: a probe of the
-- table instead of grouping every event ever landed again (ADR 0018). A first or full build
-- checks every event.
{%- set sessions = none %}
{%- if execute and not flags.FULL_REFRESH %}
    {%- set node = graph.nodes['model.clv_warehouse.int_web_sessions'] %}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) %}
    {%- if relation is not none and 'built_at' in adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
        {%- set sessions = relation %}
    {%- endif %}
{%- endif %}

with

events as (

    select * from {{ ref('stg_web__events') }}

)

select
    event_id,
    count(*) as copies
from events
{%- if sessions is not none %}
where event_id in (
    select event_id from events
    where built_at > (select coalesce(max(built_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ sessions }})
)
{%- endif %}
group by event_id
having count(*) > 1
