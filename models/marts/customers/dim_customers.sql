-- Current customer attributes from the snapshot, with lifetime purchase facts. No PII: the key
-- is the shop's pseudonymous customer id; emails, names and phones never reach a mart.

with

snapshot_current as (

    select * from {{ ref('snap_customers') }}
    where dbt_valid_to is null

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

first_purchases as (

    select * from {{ ref('int_customer_first_purchases') }}

),

lifetime as (

    select
        customer_id,
        sum(case when is_purchase_day then 1 else 0 end) as purchase_days,
        sum(net_revenue_usd) as net_revenue_usd,
        max(case when is_purchase_day then activity_date end) as last_purchase_date
    from customer_days
    group by customer_id

),

final as (

    select
        -- ids
        snapshot_current.customer_id,

        -- strings
        snapshot_current.acquisition_channel,
        snapshot_current.country,
        snapshot_current.loyalty_status,

        -- numerics
        coalesce(lifetime.purchase_days, 0) as lifetime_purchase_days,
        coalesce(lifetime.net_revenue_usd, 0) as lifetime_net_revenue_usd,

        -- booleans
        first_purchases.customer_id is not null as has_purchased,

        -- dates and timestamps
        snapshot_current.signup_date,
        first_purchases.first_purchase_date,
        lifetime.last_purchase_date,
        snapshot_current.updated_at as crm_updated_at

    from snapshot_current
    left join lifetime
        on snapshot_current.customer_id = lifetime.customer_id
    left join first_purchases
        on snapshot_current.customer_id = first_purchases.customer_id

)

select * from final
