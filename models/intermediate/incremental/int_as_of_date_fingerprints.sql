{{ config(materialized='table') }}
-- One row per as-of date on the spine: fingerprints of everything its rows are built from, so an
-- incremental build rebuilds exactly the as-of dates whose inputs changed (ADR 0017).
--   features: customer-days, first purchases and products on or before the date, the CRM
--             versions in force at its end, web sessions in the 90 days up to it;
--   labels:   the features' inputs (the population), customer-days in the label lookahead
--             after the date, and the spine's label window for it;
--   examples: the labels' inputs and the date's split.
-- Each input row adds its row_hash on the day it starts to count (a CRM version also subtracts
-- it on the day it stops), so a date's fingerprint is a sum over days: one pass over each input.
-- On a normal night every month end's features are unchanged (new rows come after them) and only
-- the labels whose lookahead reaches the new day change.

{%- set horizon = var('clv_horizon_days') %}
{#- fct_customer_labels' lookahead: the horizon, the 90-day label and the 180-day activity window. #}
{%- set lookahead = [horizon, 90, 180] | max %}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

first_purchases as (

    select * from {{ ref('int_customer_first_purchases') }}

),

customer_products as (

    select * from {{ ref('int_customer_products') }}

),

customer_versions as (

    select * from {{ ref('int_customer_versions') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions') }}

),

daily as (

    select
        activity_date as input_date,
        'days' as input_name,
        {{ hash_sum(row_hash([
            'customer_id', 'activity_date', 'gross_revenue_usd', 'returned_revenue_usd', 'net_revenue_usd',
            'gift_card_revenue_usd', 'invoice_count', 'is_purchase_day'])) }} as input_hash
    from customer_days
    group by activity_date

    union all

    select
        first_purchase_date as input_date,
        'first_purchases' as input_name,
        {{ hash_sum(row_hash(['customer_id', 'first_order_country', 'first_order_value_usd', 'first_purchase_date'])) }} as input_hash
    from first_purchases
    group by first_purchase_date

    union all

    select
        first_purchase_date as input_date,
        'products' as input_name,
        {{ hash_sum(row_hash(['customer_id', 'stock_code', 'first_purchase_date'])) }} as input_hash
    from customer_products
    group by first_purchase_date

    union all

    -- A version counts from the day it starts (valid_from < as_of_date + 1 day) ...
    select
        cast(valid_from as date) as input_date,
        'crm' as input_name,
        {{ hash_sum(row_hash(['customer_id', 'acquisition_channel', 'country', 'loyalty_status', 'valid_from'])) }} as input_hash
    from customer_versions
    group by cast(valid_from as date)

    union all

    -- ... until the day the next one starts.
    select
        cast(valid_to as date) as input_date,
        'crm' as input_name,
        -1 * {{ hash_sum(row_hash(['customer_id', 'acquisition_channel', 'country', 'loyalty_status', 'valid_from'])) }} as input_hash
    from customer_versions
    where valid_to is not null
    group by cast(valid_to as date)

    union all

    select
        session_date as input_date,
        'sessions' as input_name,
        {{ hash_sum(row_hash([
            'session_id', 'customer_id', 'event_count', 'add_to_cart_count', 'session_date',
            'session_started_at', 'session_ended_at'])) }} as input_hash
    from web_sessions
    group by session_date

),

per_date as (

    select
        as_of_dates.as_of_date,
        sum(
            case
                when daily.input_name != 'sessions' and daily.input_date <= as_of_dates.as_of_date then daily.input_hash
                when
                    daily.input_name = 'sessions'
                    and daily.input_date <= as_of_dates.as_of_date
                    and daily.input_date > {{ dbt.dateadd('day', -90, 'as_of_dates.as_of_date') }}
                    then daily.input_hash
                else 0
            end
        ) as feature_inputs_hash,
        sum(
            case
                when
                    daily.input_name = 'days'
                    and daily.input_date > as_of_dates.as_of_date
                    and daily.input_date <= {{ dbt.dateadd('day', lookahead, 'as_of_dates.as_of_date') }}
                    then daily.input_hash
                else 0
            end
        ) as label_window_hash
    from as_of_dates
    cross join daily
    group by as_of_dates.as_of_date

),

labelled as (

    select
        per_date.as_of_date,
        cast(per_date.feature_inputs_hash as {{ dbt.type_string() }}) as features_fingerprint,
        cast(per_date.feature_inputs_hash as {{ dbt.type_string() }})
        || '/' || cast(per_date.label_window_hash as {{ dbt.type_string() }})
        || '/' || cast({{ row_hash([
            'as_of_dates.horizon_days', 'as_of_dates.label_horizon_days', 'as_of_dates.label_window_end_date',
            'as_of_dates.training_window_end_date', 'as_of_dates.is_label_complete']) }} as {{ dbt.type_string() }})
            as labels_fingerprint,
        as_of_dates.split
    from per_date
    inner join as_of_dates
        on per_date.as_of_date = as_of_dates.as_of_date

),

final as (

    select
        as_of_date,
        features_fingerprint,
        labels_fingerprint,
        labels_fingerprint || '/' || cast({{ row_hash(['split']) }} as {{ dbt.type_string() }}) as examples_fingerprint
    from labelled

)

select * from final
