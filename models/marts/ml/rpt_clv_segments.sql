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
        -- Summed as decimals (exact), so the result does not depend on the order rows are added in.
        cast(sum(cast(predicted_clv as {{ dbt.type_numeric() }})) as double precision)
            as predicted_clv_total,
        cast(avg(cast(predicted_clv as {{ dbt.type_numeric() }})) as double precision)
            as predicted_clv_mean,
        cast(avg(cast(churn_probability as {{ dbt.type_numeric() }})) as double precision)
            as churn_probability_mean
    from scores
    group by
        as_of_date,
        model_version,
        value_tier

)

select * from final
