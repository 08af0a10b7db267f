with

source as (

    select * from {{ source('ml', 'backtests') }}

),

final as (

    select
        -- ids
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- numerics
        cast(horizon_days as integer) as horizon_days,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(customers_unlabelled as {{ dbt.type_bigint() }}) as customers_unlabelled,
        cast(rmse as double precision) as rmse,
        cast(mae as double precision) as mae,
        cast(normalized_gini as double precision) as normalized_gini,
        cast(top10_capture as double precision) as top10_capture,
        cast(bias as double precision) as bias,
        cast(predicted_revenue_usd as double precision) as predicted_revenue_usd,
        cast(actual_revenue_usd as double precision) as actual_revenue_usd,
        cast(test_normalized_gini as double precision) as test_normalized_gini,

        -- booleans
        cast(is_history_restated as boolean) as is_history_restated,

        -- dates and timestamps
        cast(as_of_date as date) as monitored_as_of_date,
        cast(scored_as_of_date as date) as scored_as_of_date,
        cast(monitored_at as {{ dbt.type_timestamp() }}) as monitored_at

    from source

)

select * from final
