{{
    config(
        materialized='incremental',
        unique_key=['customer_id', 'as_of_date', 'model_version'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        dist='customer_id',
        sort=['as_of_date', 'customer_id'],
    )
}}
-- Score history. Incremental: each run replaces the as-of dates it finds in the lake (a rescored
-- partition replaces its rows; earlier history stays).

with

scores as (

    select * from {{ ref('stg_ml__clv_scores') }}

),

final as (

    select
        customer_id,
        model_version,
        value_tier,
        reason_1,
        reason_2,
        reason_3,
        predicted_clv,
        horizon_days,
        churn_probability,
        clv_percentile,
        reason_1_impact,
        reason_2_impact,
        reason_3_impact,
        as_of_date,
        scored_at
    from scores

)

select * from final
