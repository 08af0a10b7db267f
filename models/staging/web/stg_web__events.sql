with

source as (

    select * from {{ source('web', 'events') }}

),

final as (

    select
        -- ids
        cast(event_id as {{ dbt.type_bigint() }}) as event_id,
        cast(session_id as {{ dbt.type_bigint() }}) as session_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,

        -- strings
        event_type,

        -- booleans
        customer_id is null as is_anonymous,

        -- dates and timestamps
        cast(ingest_date as date) as ingest_date,
        cast(event_timestamp as date) as event_date,
        cast(event_timestamp as {{ dbt.type_timestamp() }}) as event_at

    from source

)

select * from final
