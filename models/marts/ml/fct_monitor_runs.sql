-- One row per monitored as-of date: the worst drift status, how many columns warn or alert,
-- how many matured backtests were checked, and whether to retrain (with the reasons).

with

monitor_runs as (

    select * from {{ ref('stg_ml__monitor_runs') }}

),

final as (

    select
        as_of_date,
        model_version,
        drift_status,
        prediction_drift_status,
        proxy_status,
        columns_warn,
        columns_alert,
        backtests,
        is_retrain_recommended,
        reasons,
        monitored_at
    from monitor_runs

)

select * from final
