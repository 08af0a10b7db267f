{{ config(**as_of_date_model_config('labels')) }}
{%- set build_dates = as_of_dates_to_build('labels') %}
-- Labels look only at (as_of_date, as_of_date + horizon]; is_label_complete says whether the
-- data's last date covers that whole window (DESIGN §5). Train and valid rows learn from the
-- label window of int_as_of_dates.label_horizon_days (the horizon unless the history is too
-- short, ADR 0015); then the activity window shrinks to it too, so no label of theirs reaches
-- past the test as-of date.

{%- set horizon = var('clv_horizon_days') %}
{%- set active_days = 180 %}
{%- set lookahead = [horizon, 90, active_days] | max %}

with

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

population as (

    select
        order_features.customer_id,
        order_features.as_of_date,
        as_of_dates.label_horizon_days,
        case
            when as_of_dates.label_horizon_days < as_of_dates.horizon_days
                then least({{ active_days }}, as_of_dates.label_horizon_days)
            else {{ active_days }}
        end as active_window_days
    from {{ ref('int_customer_order_features') }} as order_features
    inner join as_of_dates
        on order_features.as_of_date = as_of_dates.as_of_date

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

future as (

    select
        population.customer_id,
        population.as_of_date,
        sum(
            case
                when customer_days.activity_date <= {{ dbt.dateadd('day', horizon, 'population.as_of_date') }}
                    then customer_days.net_revenue_usd
                else 0
            end
        ) as net_revenue_next_horizon_usd,
        sum(
            case
                when customer_days.activity_date <= {{ dbt.dateadd('day', 'population.label_horizon_days', 'population.as_of_date') }}
                    then customer_days.net_revenue_usd
                else 0
            end
        ) as net_revenue_next_label_window_usd,
        sum(
            case
                when customer_days.activity_date <= {{ dbt.dateadd('day', 90, 'population.as_of_date') }}
                    then customer_days.net_revenue_usd
                else 0
            end
        ) as net_revenue_next_90d_usd,
        -- The 30-day window is the monitor's early proxy of model quality (clv-jobs monitor).
        sum(
            case
                when customer_days.activity_date <= {{ dbt.dateadd('day', 30, 'population.as_of_date') }}
                    then customer_days.net_revenue_usd
                else 0
            end
        ) as net_revenue_next_30d_usd,
        sum(
            case
                when
                    customer_days.is_purchase_day
                    and customer_days.activity_date <= {{ dbt.dateadd('day', 30, 'population.as_of_date') }}
                    then 1
                else 0
            end
        ) as purchase_days_next_30d,
        max(
            case
                when
                    customer_days.is_purchase_day
                    and customer_days.activity_date <= {{ dbt.dateadd('day', 'population.active_window_days', 'population.as_of_date') }}
                    then 1
                else 0
            end
        ) as purchased_next_active_window
    from population
    inner join customer_days
        on
            population.customer_id = customer_days.customer_id
            and customer_days.activity_date > population.as_of_date
            and customer_days.activity_date <= {{ dbt.dateadd('day', lookahead, 'population.as_of_date') }}
    group by
        population.customer_id,
        population.as_of_date

),

final as (

    select
        -- ids
        population.customer_id,

        -- numerics
        -- Returns of earlier purchases can make net future revenue negative; the label is
        -- floored at zero and the count of floored rows is in rpt_staging_rule_counts.
        greatest(coalesce(future.net_revenue_next_horizon_usd, 0), 0) as revenue_next_horizon_usd,
        greatest(coalesce(future.net_revenue_next_label_window_usd, 0), 0) as revenue_next_label_window_usd,
        greatest(coalesce(future.net_revenue_next_90d_usd, 0), 0) as revenue_next_90d_usd,
        greatest(coalesce(future.net_revenue_next_30d_usd, 0), 0) as revenue_next_30d_usd,
        coalesce(future.purchase_days_next_30d, 0) as purchase_days_next_30d,
        coalesce(future.net_revenue_next_horizon_usd, 0) as net_revenue_next_horizon_usd,
        as_of_dates.horizon_days,
        as_of_dates.label_horizon_days,

        -- booleans
        coalesce(future.purchased_next_active_window, 0) = 1 as is_active_next_180d,
        as_of_dates.is_label_complete,

        -- dates
        population.as_of_date,
        as_of_dates.label_window_end_date,
        as_of_dates.training_window_end_date

    from population
    inner join as_of_dates
        on population.as_of_date = as_of_dates.as_of_date
    left join future
        on
            population.customer_id = future.customer_id
            and population.as_of_date = future.as_of_date

)

select * from final
