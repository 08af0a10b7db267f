-- The 30-day proxy of every scored date whose 30 days have passed: rank and linear correlation of
-- predicted CLV with realized spend, against the same proxy on the model's own test date.

with

proxy as (

    select * from {{ ref('stg_ml__proxy_checks') }}

),

final as (

    select
        as_of_date,
        scored_as_of_date,
        model_version,
        window_days,
        customers,
        spearman,
        pearson,
        reference_spearman,
        relative_drop,
        is_triggered,
        monitored_at
    from proxy

)

select * from final
