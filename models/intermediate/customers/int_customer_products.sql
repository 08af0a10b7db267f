-- One row per customer per product ever bought (gift cards excluded): the first purchase date,
-- so product diversity at an as-of date is a count of rows on or before it.

with

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

final as (

    select
        customer_id,
        stock_code,
        min(invoice_date) as first_purchase_date
    from transactions
    where
        line_amount_usd > 0
        and not is_gift_card
    group by
        customer_id,
        stock_code

)

select * from final
