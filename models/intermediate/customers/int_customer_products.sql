{{
    config(**customer_rebuild_config(
        inputs=['stg_shop__transaction_lines', 'stg_shop__transactions'],
        sort=['customer_id', 'first_purchase_date'],
    ))
}}
-- depends_on: {{ ref('stg_shop__transaction_lines') }}
-- One row per customer per product ever bought (gift cards excluded): the first purchase date,
-- so product diversity at an as-of date is a count of rows on or before it. A table rebuilt by
-- customer as int_customer_days is (ADR 0018): the features and the as-of date fingerprints read
-- it, and a view would group every order line again for each.

with

transactions as (

    select all_transactions.* from {{ ref('stg_shop__transactions') }} as all_transactions
    where {{ customer_not_built('all_transactions.customer_id') }}

),

final as (

    select
        customer_id,
        stock_code,
        min(invoice_date) as first_purchase_date,
        {{ run_started_at_sql() }} as built_at
    from transactions
    where
        line_amount_usd > 0
        and not is_gift_card
    group by
        customer_id,
        stock_code

)

select * from final
