-- One row per cleaning rule: how many rows it saw and how many it removed, changed or flagged
-- (DESIGN §9: nothing dropped silently). Thresholds on share_affected are tests in YAML.

with

transaction_lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

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

    {%- for rule, column, action in [
        ('null_customer_id', 'CustomerID', 'removed'),
        ('exact_duplicate_line', 'all columns', 'removed'),
        ('event_date_after_ingest_date', 'InvoiceDate', 'quarantined'),
        ('event_date_before_shop_start', 'InvoiceDate', 'quarantined'),
        ('customer_id_pattern', 'CustomerID', 'quarantined'),
        ('unknown_customer', 'CustomerID', 'quarantined'),
        ('zero_quantity', 'Quantity', 'quarantined'),
    ] %}
    select
        'shop.transactions' as source_table,
        '{{ column }}' as column_name,
        '{{ rule }}' as rule_name,
        '{{ action }}' as rule_action,
        count(*) as rows_in,
        sum(
            case when {{ 'removed_by_rule' if action == 'removed' else 'quarantine_rule' }} = '{{ rule }}' then 1 else 0 end
        ) as rows_affected
    from transaction_lines

    union all
    {% endfor %}

    select
        'stg_shop__transactions' as source_table,
        'quantity' as column_name,
        'cancellations_and_returns' as rule_name,
        'netted' as rule_action,
        count(*) as rows_in,
        sum(case when is_cancellation or is_return then 1 else 0 end) as rows_affected
    from transactions

    union all

    select
        'stg_shop__transactions' as source_table,
        'line_amount_usd' as column_name,
        'outlier_cap' as rule_name,
        'capped' as rule_action,
        count(*) as rows_in,
        sum(case when is_amount_capped then 1 else 0 end) as rows_affected
    from transactions

    union all

    select
        'stg_shop__transactions' as source_table,
        'stock_code' as column_name,
        'gift_card' as rule_name,
        'flagged' as rule_action,
        count(*) as rows_in,
        sum(case when is_gift_card then 1 else 0 end) as rows_affected
    from transactions

    union all

    select
        'shop.customers' as source_table,
        'updated_at' as column_name,
        'duplicate_crm_versions' as rule_name,
        'removed' as rule_action,
        (select count(*) from raw_customers) as rows_in,
        (select count(*) from raw_customers) - (select count(*) from customers) as rows_affected

    union all

    select
        'stg_web__events' as source_table,
        'customer_id' as column_name,
        'anonymous_events' as rule_name,
        'excluded_from_features' as rule_action,
        count(*) as rows_in,
        sum(case when is_anonymous then 1 else 0 end) as rows_affected
    from events

    union all

    select
        'fct_customer_labels' as source_table,
        'revenue_next_horizon_usd' as column_name,
        'negative_net_revenue' as rule_name,
        'floored_at_zero' as rule_action,
        count(*) as rows_in,
        sum(case when net_revenue_next_horizon_usd < 0 then 1 else 0 end) as rows_affected
    from labels

),

final as (

    select
        source_table,
        column_name,
        rule_name,
        rule_action,
        rows_in,
        coalesce(rows_affected, 0) as rows_affected,
        case when rows_in > 0 then 1.0 * coalesce(rows_affected, 0) / rows_in else 0 end as share_affected
    from rule_counts

)

select * from final
