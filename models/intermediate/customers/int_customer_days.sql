{{
    config(**customer_rebuild_config(
        pre_hook="{{ delete_customers_gone(ref('stg_shop__transactions')) }}",
        sort=['customer_id', 'activity_date'],
    ))
}}
-- A table: every feature and label model aggregates it per as-of date. Incremental by customer
-- (ADR 0018): a nightly build rewrites the customers whose order lines changed.
{#- The columns the days are computed from; their hashes per day are the day's fingerprint. #}
{%- set line_columns = ['customer_id', 'invoice_no', 'invoice_date', 'quantity', 'line_amount_usd',
    'is_cancellation', 'is_gift_card'] %}

with

all_transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

{%- if is_incremental() %}

latest_fingerprints as (

    {{ customer_fingerprints('all_transactions', line_columns) }}

),

built_fingerprints as (

    select
        customer_id,
        sum(lines_fingerprint) as fingerprint
    from {{ this }}
    group by customer_id

),

customers_to_build as (

    {{ customers_changed('latest_fingerprints', 'built_fingerprints') }}

),

transactions as (

    select all_transactions.*
    from all_transactions
    inner join customers_to_build
        on all_transactions.customer_id = customers_to_build.customer_id

),

{%- else %}

transactions as (

    select * from all_transactions

),

{%- endif %}

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
        -- what the day was computed from (for the nightly build's change detection)
        {{ hash_sum(row_hash(line_columns)) }} as lines_fingerprint
    from transactions
    group by
        customer_id,
        invoice_date

)

select * from final
