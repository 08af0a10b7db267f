with

source as (

    select * from {{ source('ml', 'monitor_runs') }}

),

final as (

    select
        -- ids
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(drift_status as {{ dbt.type_string() }}) as drift_status,
        cast(prediction_drift_status as {{ dbt.type_string() }}) as prediction_drift_status,
        cast(proxy_status as {{ dbt.type_string() }}) as proxy_status,
        cast(reasons as {{ dbt.type_string() }}) as reasons,

        -- numerics
        cast(columns_warn as integer) as columns_warn,
        cast(columns_alert as integer) as columns_alert,
        cast(backtests as integer) as backtests,

        -- booleans
        cast(retrain as boolean) as is_retrain_recommended,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(monitored_at as {{ dbt.type_timestamp() }}) as monitored_at

    from source

)

select * from final
