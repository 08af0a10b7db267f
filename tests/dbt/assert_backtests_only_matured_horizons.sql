-- A realized backtest may only use scores whose whole horizon lies on or before the monitored
-- as-of date: anything else would compare predictions with a future not yet observed.
{{ config(tags=['ml']) }}

with

backtests as (

    select * from {{ ref('fct_model_backtest') }}

),

final as (

    select
        monitored_as_of_date,
        scored_as_of_date,
        model_version,
        horizon_days
    from backtests
    where {{ dbt.dateadd('day', 'horizon_days', 'scored_as_of_date') }} > monitored_as_of_date

)

select * from final
