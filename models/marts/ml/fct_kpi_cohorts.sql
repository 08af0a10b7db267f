-- Realized 30-day KPIs of the top 10 % and the bottom 50 % of predicted CLV at each scored date.

with

kpi_cohorts as (

    select * from {{ ref('stg_ml__kpi_cohorts') }}

),

final as (

    select
        as_of_date,
        scored_as_of_date,
        model_version,
        cohort,
        window_days,
        customers,
        buyers,
        realized_revenue_usd,
        realized_aov_usd,
        churn_rate,
        monitored_at
    from kpi_cohorts

)

select * from final
