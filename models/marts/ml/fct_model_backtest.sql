-- Realized backtests: scores of an earlier as-of date against the revenue customers then
-- spent, once the horizon has matured; recomputed at each monitored as-of date.

with

backtests as (

    select * from {{ ref('stg_ml__backtests') }}

),

final as (

    select
        monitored_as_of_date,
        scored_as_of_date,
        model_version,
        horizon_days,
        customers,
        customers_unlabelled,
        rmse,
        mae,
        normalized_gini,
        test_normalized_gini,
        normalized_gini - test_normalized_gini as normalized_gini_change,
        top10_capture,
        bias,
        predicted_revenue_usd,
        actual_revenue_usd,
        is_history_restated,
        monitored_at
    from backtests

)

select * from final
