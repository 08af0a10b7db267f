with

source as (

    select * from {{ source('ml', 'scores') }}

),

final as (

    select
        -- ids
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(value_tier as {{ dbt.type_string() }}) as value_tier,
        cast(reason_1 as {{ dbt.type_string() }}) as reason_1,
        cast(reason_2 as {{ dbt.type_string() }}) as reason_2,
        cast(reason_3 as {{ dbt.type_string() }}) as reason_3,

        -- numerics
        cast(predicted_clv as double precision) as predicted_clv,
        cast(horizon_days as integer) as horizon_days,
        cast(churn_probability as double precision) as churn_probability,
        cast(clv_percentile as double precision) as clv_percentile,
        cast(reason_1_impact as double precision) as reason_1_impact,
        cast(reason_2_impact as double precision) as reason_2_impact,
        cast(reason_3_impact as double precision) as reason_3_impact,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(scored_at as {{ dbt.type_timestamp() }}) as scored_at

    from source

)

select * from final
