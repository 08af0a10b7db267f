{{ config(materialized='table') }}
-- A table: the web features and the as-of date fingerprints both read it.
-- One row per identified web session. Anonymous sessions cannot feed a customer's features;
-- rpt_staging_rule_counts counts the events this leaves out.

with

events as (

    select * from {{ ref('stg_web__events') }}

),

final as (

    select
        session_id,
        customer_id,
        count(*) as event_count,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        cast(min(event_at) as date) as session_date,
        min(event_at) as session_started_at,
        max(event_at) as session_ended_at,
        -- when it last read the events: assert_web_event_ids_unique checks the ones staged since
        {{ run_started_at_sql() }} as built_at
    from events
    where not is_anonymous
    group by
        session_id,
        customer_id

)

select * from final
