-- The point-in-time rule, checked against the order lines themselves rather than the models'
-- own logic: for every feature row, the dates it reports are on or before its as-of date, and
-- its revenue to date equals the sum of the customer's staged lines dated on or before it.
-- Any row returned is a leak (or a lost line). In `dbt build`, only the as-of dates this run
-- built (ADR 0017).

with

features as (

    select * from {{ ref('fct_customer_features') }}
    where {{ as_of_dates_tested() }}

),

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

recomputed as (

    select
        features.customer_id,
        features.as_of_date,
        sum(transactions.line_amount_usd) as net_revenue_to_date_usd
    from features
    inner join transactions
        on
            features.customer_id = transactions.customer_id
            and transactions.invoice_date <= features.as_of_date
    group by
        features.customer_id,
        features.as_of_date

),

violations as (

    select
        features.customer_id,
        features.as_of_date,
        features.first_purchase_date,
        features.last_purchase_date,
        features.net_revenue_to_date_usd,
        recomputed.net_revenue_to_date_usd as recomputed_net_revenue_to_date_usd
    from features
    left join recomputed
        on
            features.customer_id = recomputed.customer_id
            and features.as_of_date = recomputed.as_of_date
    where
        features.first_purchase_date > features.as_of_date
        or features.last_purchase_date > features.as_of_date
        or features.tenure_days != {{ dbt.datediff('features.first_purchase_date', 'features.as_of_date', 'day') }}
        or recomputed.net_revenue_to_date_usd is null
        or abs(features.net_revenue_to_date_usd - recomputed.net_revenue_to_date_usd) > 0.01

)

select * from violations
