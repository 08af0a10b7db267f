{{
    config(**customer_rebuild_config(
        inputs=['stg_shop__transaction_lines', 'stg_shop__transactions'],
        sort=['customer_id'],
    ))
}}
-- depends_on: {{ ref('stg_shop__transaction_lines') }}
-- One row per buying customer: the first purchase day, its value and where it shipped. A table
-- rebuilt by customer, from the same inputs' stamps as int_customer_days (ADR 0018): the
-- features, dim_customers and the as-of date fingerprints read it.

with

customer_days as (

    select all_days.* from {{ ref('int_customer_days') }} as all_days
    where {{ customer_not_built('all_days.customer_id') }}

),

transactions as (

    select all_transactions.* from {{ ref('stg_shop__transactions') }} as all_transactions
    where {{ customer_not_built('all_transactions.customer_id') }}

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
        first_days.first_purchase_date,
        {{ run_started_at_sql() }} as built_at
    from first_days
    inner join customer_days
        on
            first_days.customer_id = customer_days.customer_id
            and first_days.first_purchase_date = customer_days.activity_date
    left join first_countries
        on first_days.customer_id = first_countries.customer_id

)

select * from final
