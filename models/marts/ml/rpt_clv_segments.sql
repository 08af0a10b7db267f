-- Value tiers per scored as-of date and model version: size, predicted value and churn risk.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

final as (

    select
        as_of_date,
        model_version,
        value_tier,
        count(*) as customers,
        sum(predicted_clv_12m) as predicted_clv_12m_total,
        avg(predicted_clv_12m) as predicted_clv_12m_mean,
        avg(churn_probability) as churn_probability_mean
    from scores
    group by
        as_of_date,
        model_version,
        value_tier

)

select * from final
