-- How customers moved between value tiers from one scored as-of date to the next: one row per
-- pair of consecutive scored dates and (from tier, to tier). A customer's score at a date is
-- the latest scoring run's (as in dim_customer_clv); 'unscored' stands for no score at a date.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

tiers as (

    select * from {{ ref('clv_value_tiers') }}

),

latest as (

    select
        customer_id,
        as_of_date,
        value_tier,
        row_number() over (
            partition by customer_id, as_of_date
            order by scored_at desc, model_version desc
        ) as recency_rank
    from scores

),

customer_tiers as (

    select
        customer_id,
        as_of_date,
        value_tier
    from latest
    where recency_rank = 1

),

scored_dates as (

    select
        as_of_date,
        lag(as_of_date) over (order by as_of_date) as previous_as_of_date
    from (select distinct as_of_date from customer_tiers) as d

),

pairs as (

    select
        scored_dates.as_of_date,
        scored_dates.previous_as_of_date,
        coalesce(previous.value_tier, 'unscored') as from_tier,
        coalesce(current_tiers.value_tier, 'unscored') as to_tier
    from scored_dates
    inner join customer_tiers as current_tiers
        on scored_dates.as_of_date = current_tiers.as_of_date
    left join customer_tiers as previous
        on
            scored_dates.previous_as_of_date = previous.as_of_date
            and current_tiers.customer_id = previous.customer_id
    where scored_dates.previous_as_of_date is not null

    union all

    -- customers scored at the previous date but not at this one
    select
        scored_dates.as_of_date,
        scored_dates.previous_as_of_date,
        previous.value_tier as from_tier,
        'unscored' as to_tier
    from scored_dates
    inner join customer_tiers as previous
        on scored_dates.previous_as_of_date = previous.as_of_date
    left join customer_tiers as current_tiers
        on
            scored_dates.as_of_date = current_tiers.as_of_date
            and previous.customer_id = current_tiers.customer_id
    where current_tiers.customer_id is null

),

final as (

    select
        pairs.as_of_date,
        pairs.previous_as_of_date,
        pairs.from_tier,
        coalesce(from_tiers.tier_rank, 99) as from_tier_rank,
        pairs.to_tier,
        coalesce(to_tiers.tier_rank, 99) as to_tier_rank,
        count(*) as customers
    from pairs
    left join tiers as from_tiers
        on pairs.from_tier = from_tiers.value_tier
    left join tiers as to_tiers
        on pairs.to_tier = to_tiers.value_tier
    group by
        pairs.as_of_date,
        pairs.previous_as_of_date,
        pairs.from_tier,
        from_tiers.tier_rank,
        pairs.to_tier,
        to_tiers.tier_rank

)

select * from final
