-- One row per buying customer: the first purchase day, its value and where it shipped.

with

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

first_days as (

    select
        customer_id,
        min(activity_date) as first_purchase_date
    from customer_days
    where is_purchase_day
    group by customer_id

),

first_countries as (

    select
        transactions.customer_id,
        min(transactions.country) as first_order_country
    from transactions
    inner join first_days
        on
            transactions.customer_id = first_days.customer_id
            and transactions.invoice_date = first_days.first_purchase_date
    group by transactions.customer_id

),

final as (

    select
        first_days.customer_id,
        first_countries.first_order_country,
        customer_days.net_revenue_usd as first_order_value_usd,
        first_days.first_purchase_date
    from first_days
    inner join customer_days
        on
            first_days.customer_id = customer_days.customer_id
            and first_days.first_purchase_date = customer_days.activity_date
    left join first_countries
        on first_days.customer_id = first_countries.customer_id

)

select * from final
