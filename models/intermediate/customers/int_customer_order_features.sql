{{ config(**as_of_date_model_config('features')) }}
{%- set build_dates = as_of_dates_to_build('features') %}
-- A table: features, labels and their tests all read it; as a view each would recompute the
-- customer-days x as-of dates join. Incremental by as-of date (ADR 0017).
-- One row per customer per as-of date, for customers with a purchase on or before it:
-- BTYD summary (frequency, recency, T, monetary as in Fader & Hardie) and rolling windows.
-- Every aggregate reads only customer-days on or before the as-of date.

{%- set windows = var('clv_feature_windows') %}

with

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

as_of_dates as (

    select as_of_date from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

history as (

    select
        as_of_dates.as_of_date,
        customer_days.*
    from as_of_dates
    inner join customer_days
        on customer_days.activity_date <= as_of_dates.as_of_date

),

aggregated as (

    select
        customer_id,
        as_of_date,
        min(case when is_purchase_day then activity_date end) as first_purchase_date,
        max(case when is_purchase_day then activity_date end) as last_purchase_date,
        sum(case when is_purchase_day then 1 else 0 end) as purchase_days,
        sum(case when is_purchase_day then net_revenue_usd else 0 end) as purchase_day_revenue_usd,
        sum(net_revenue_usd) as net_revenue_to_date_usd,
        sum(gross_revenue_usd) as gross_revenue_to_date_usd,
        sum(returned_revenue_usd) as returned_revenue_to_date_usd,
        sum(gift_card_revenue_usd) as gift_card_revenue_to_date_usd,
        {%- for window in windows %}
        sum(
            case
                when is_purchase_day and activity_date > {{ dbt.dateadd('day', -1 * window, 'as_of_date') }} then 1
                else 0
            end
        ) as orders_{{ window }}d,
        sum(
            case
                when activity_date > {{ dbt.dateadd('day', -1 * window, 'as_of_date') }} then net_revenue_usd
                else 0
            end
        ) as revenue_{{ window }}d_usd{{ "," if not loop.last }}
        {%- endfor %}
    from history
    group by
        customer_id,
        as_of_date

),

first_purchase_values as (

    select
        customer_days.customer_id,
        customer_days.activity_date,
        customer_days.net_revenue_usd as first_order_value_usd
    from customer_days
    where customer_days.is_purchase_day

),

final as (

    select
        aggregated.customer_id,
        aggregated.as_of_date,
        aggregated.purchase_days - 1 as frequency,
        {{ dbt.datediff('aggregated.first_purchase_date', 'aggregated.last_purchase_date', 'day') }} as recency_days,
        {{ dbt.datediff('aggregated.first_purchase_date', 'aggregated.as_of_date', 'day') }} as tenure_days,
        {{ dbt.datediff('aggregated.last_purchase_date', 'aggregated.as_of_date', 'day') }} as days_since_last_purchase,
        -- Averages and shares are doubles: model inputs, not money to be summed. (dbt.type_float()
        -- is a 4-byte float on DuckDB.)
        cast(
            case
                when aggregated.purchase_days > 1
                    then (aggregated.purchase_day_revenue_usd - first_purchase_values.first_order_value_usd)
                    / (aggregated.purchase_days - 1)
                else 0
            end as double precision
        ) as monetary_value_usd,
        cast(aggregated.purchase_day_revenue_usd / aggregated.purchase_days as double precision)
            as avg_purchase_value_usd,
        cast(
            case
                when aggregated.purchase_days > 1
                    then
                        1.0 * {{ dbt.datediff('aggregated.first_purchase_date', 'aggregated.last_purchase_date', 'day') }}
                        / (aggregated.purchase_days - 1)
            end as double precision
        ) as avg_days_between_purchases,
        aggregated.net_revenue_to_date_usd,
        cast(
            case
                when aggregated.gross_revenue_to_date_usd > 0
                    then aggregated.returned_revenue_to_date_usd / aggregated.gross_revenue_to_date_usd
                else 0
            end as double precision
        ) as return_rate,
        cast(
            case
                when aggregated.gross_revenue_to_date_usd > 0
                    then aggregated.gift_card_revenue_to_date_usd / aggregated.gross_revenue_to_date_usd
                else 0
            end as double precision
        ) as gift_card_share,
        first_purchase_values.first_order_value_usd,
        {%- for window in windows %}
        aggregated.orders_{{ window }}d,
        aggregated.revenue_{{ window }}d_usd,
        {%- endfor %}
        aggregated.first_purchase_date,
        aggregated.last_purchase_date
    from aggregated
    inner join first_purchase_values
        on
            aggregated.customer_id = first_purchase_values.customer_id
            and aggregated.first_purchase_date = first_purchase_values.activity_date
    -- Customers whose activity up to the as-of date is only returns have not bought yet.
    where aggregated.first_purchase_date is not null

)

select * from final
