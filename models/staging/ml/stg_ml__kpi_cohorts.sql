with

source as (

    select * from {{ source('ml', 'kpi_cohorts') }}

),

final as (

    select
        -- ids
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(cohort as {{ dbt.type_string() }}) as cohort,

        -- numerics
        cast(window_days as {{ dbt.type_bigint() }}) as window_days,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(buyers as {{ dbt.type_bigint() }}) as buyers,
        cast(realized_revenue_usd as double precision) as realized_revenue_usd,
        cast(realized_aov_usd as double precision) as realized_aov_usd,
        cast(churn_rate as double precision) as churn_rate,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(scored_as_of_date as date) as scored_as_of_date,
        cast(monitored_at as {{ dbt.type_timestamp() }}) as monitored_at

    from source

)

select * from final
