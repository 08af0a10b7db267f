-- One row per cleaning rule: how many rows it saw and how many it removed, changed or flagged
-- (DESIGN §9: nothing dropped silently). Thresholds on share_affected are tests in YAML.

with

raw_transactions as (

    select * from {{ source('shop', 'transactions') }}

),

raw_customers as (

    select * from {{ source('shop', 'customers') }}

),

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

events as (

    select * from {{ ref('stg_web__events') }}

),

labels as (

    select * from {{ ref('fct_customer_labels') }}

),

rule_counts as (

    select
        'shop.transactions' as source_table,
        'CustomerID' as column_name,
        'null_customer_id' as rule_name,
        'removed' as action,
        count(*) as rows_in,
        sum(case when "CustomerID" is null then 1 else 0 end) as rows_affected
    from raw_transactions

    union all

    select
        'stg_shop__transactions',
        'quantity',
        'cancellations_and_returns',
        'netted',
        count(*),
        sum(case when is_cancellation or is_return then 1 else 0 end)
    from transactions

    union all

    select
        'stg_shop__transactions',
        'line_amount_usd',
        'outlier_cap',
        'capped',
        count(*),
        sum(case when is_amount_capped then 1 else 0 end)
    from transactions

    union all

    select
        'stg_shop__transactions',
        'stock_code',
        'gift_card',
        'flagged',
        count(*),
        sum(case when is_gift_card then 1 else 0 end)
    from transactions

    union all

    select
        'shop.customers',
        'updated_at',
        'duplicate_crm_versions',
        'removed',
        (select count(*) from raw_customers),
        (select count(*) from raw_customers) - (select count(*) from customers)

    union all

    select
        'stg_web__events',
        'customer_id',
        'anonymous_events',
        'excluded_from_features',
        count(*),
        sum(case when is_anonymous then 1 else 0 end)
    from events

    union all

    select
        'fct_customer_labels',
        'revenue_next_horizon_usd',
        'negative_net_revenue',
        'floored_at_zero',
        count(*),
        sum(case when net_revenue_next_horizon_usd < 0 then 1 else 0 end)
    from labels

),

final as (

    select
        source_table,
        column_name,
        rule_name,
        action,
        rows_in,
        coalesce(rows_affected, 0) as rows_affected,
        case when rows_in > 0 then 1.0 * coalesce(rows_affected, 0) / rows_in else 0 end as share_affected
    from rule_counts

)

select * from final
