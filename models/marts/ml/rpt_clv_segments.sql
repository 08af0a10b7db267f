-- Value tiers per scored as-of date and model version: size, predicted value and churn risk.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

tiers as (

    select * from {{ ref('clv_value_tiers') }}

),

final as (

    select
        scores.as_of_date,
        scores.model_version,
        scores.value_tier,
        tiers.tier_rank as value_tier_rank,
        count(*) as customers,
        -- Summed as decimals (exact), so the result does not depend on the order rows are added in.
        cast(sum(cast(scores.predicted_clv as {{ dbt.type_numeric() }})) as double precision)
            as predicted_clv_total,
        cast(avg(cast(scores.predicted_clv as {{ dbt.type_numeric() }})) as double precision)
            as predicted_clv_mean,
        cast(avg(cast(scores.churn_probability as {{ dbt.type_numeric() }})) as double precision)
            as churn_probability_mean
    from scores
    left join tiers
        on scores.value_tier = tiers.value_tier
    group by
        scores.as_of_date,
        scores.model_version,
        scores.value_tier,
        tiers.tier_rank

)

select * from final
