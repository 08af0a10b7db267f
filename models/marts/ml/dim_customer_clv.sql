-- The current score of each customer: the latest scored as-of date (and, within it, the latest
-- scoring run), joined to current customer attributes. What BI dashboards read.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

tiers as (

    select * from {{ ref('clv_value_tiers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by as_of_date desc, scored_at desc, model_version desc
        ) as recency_rank
    from scores

),

final as (

    select
        ranked.customer_id,
        ranked.model_version,
        ranked.value_tier,
        tiers.tier_rank as value_tier_rank,
        customers.acquisition_channel,
        customers.country,
        ranked.reason_1,
        ranked.reason_2,
        ranked.reason_3,
        ranked.predicted_clv,
        ranked.horizon_days,
        ranked.churn_probability,
        ranked.clv_percentile,
        ranked.as_of_date,
        ranked.scored_at
    from ranked
    left join customers
        on ranked.customer_id = customers.customer_id
    left join tiers
        on ranked.value_tier = tiers.value_tier
    where ranked.recency_rank = 1

)

select * from final
