{{
    config(**customer_rebuild_config(
        inputs=['stg_shop__transaction_lines', 'stg_shop__transactions'],
        sort=['customer_id', 'activity_date'],
    ))
}}
-- depends_on: {{ ref('stg_shop__transaction_lines') }}
-- A table: every feature and label model aggregates it per as-of date. Incremental by customer
-- (ADR 0018): a nightly build rewrites the customers whose lines were restaged (lines, not only
-- published ones: a customer whose every line was quarantined loses their days) or rewritten.

with

transactions as (

    select all_transactions.* from {{ ref('stg_shop__transactions') }} as all_transactions
    where {{ customer_not_built('all_transactions.customer_id') }}

),

final as (

    select
        customer_id,
        invoice_date as activity_date,
        sum(case when line_amount_usd > 0 then line_amount_usd else 0 end) as gross_revenue_usd,
        sum(case when line_amount_usd < 0 then -1 * line_amount_usd else 0 end) as returned_revenue_usd,
        -- Rule cancellations_and_returns: netted here, so revenue is what the customer kept.
        sum(line_amount_usd) as net_revenue_usd,
        sum(case when is_gift_card and line_amount_usd > 0 then line_amount_usd else 0 end)
            as gift_card_revenue_usd,
        count(distinct case when not is_cancellation and quantity > 0 then invoice_no end) as invoice_count,
        -- A purchase day has an order that was not cancelled the same day: positive net revenue,
        -- or a free order (gross zero, as CDNOW's $0 purchases). A day of only returns, or of
        -- an order and its full cancellation, is not one.
        (
            count(case when not is_cancellation and quantity > 0 then 1 end) > 0
            and (
                sum(line_amount_usd) > 0
                or sum(case when line_amount_usd > 0 then line_amount_usd else 0 end) = 0
            )
        ) as is_purchase_day,
        {{ run_started_at_sql() }} as built_at
    from transactions
    group by
        customer_id,
        invoice_date

)

select * from final
