with

source as (

    select * from {{ source('ml', 'alerts') }}

),

final as (

    select
        -- ids
        cast(alert_id as {{ dbt.type_string() }}) as alert_id,
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(tier as {{ dbt.type_string() }}) as tier,
        cast(rule_name as {{ dbt.type_string() }}) as rule_name,
        cast(raised_by as {{ dbt.type_string() }}) as raised_by,
        cast(message as {{ dbt.type_string() }}) as message,
        cast(route as {{ dbt.type_string() }}) as route,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(raised_at as {{ dbt.type_timestamp() }}) as raised_at

    from source

)

select * from final
