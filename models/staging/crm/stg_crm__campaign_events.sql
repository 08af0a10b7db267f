with

source as (

    select * from {{ source('crm', 'campaign_events') }}

),

final as (

    select
        -- ids
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,

        -- strings
        cast(event as {{ dbt.type_string() }}) as campaign_event,

        -- dates and timestamps
        cast(ingest_date as date) as ingest_date,
        cast(event_at as date) as event_date,
        cast(event_at as {{ dbt.type_timestamp() }}) as event_at

    from source

)

select * from final
