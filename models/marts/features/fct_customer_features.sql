{{ config(**as_of_date_model_config('features')) }}
{%- set build_dates = as_of_dates_to_build('features') %}

{%- set windows = var('clv_feature_windows') %}

with

order_features as (

    select * from {{ ref('int_customer_order_features') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

web_features as (

    select * from {{ ref('int_customer_web_features') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

customer_products as (

    select * from {{ ref('int_customer_products') }}

),

customer_versions as (

    select * from {{ ref('int_customer_versions') }}

),

first_purchases as (

    select * from {{ ref('int_customer_first_purchases') }}

),

as_of_dates as (

    select as_of_date from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

product_diversity as (

    select
        customer_products.customer_id,
        as_of_dates.as_of_date,
        count(*) as distinct_products
    from as_of_dates
    inner join customer_products
        on customer_products.first_purchase_date <= as_of_dates.as_of_date
    group by
        customer_products.customer_id,
        as_of_dates.as_of_date

),

crm_at_as_of_date as (

    -- The CRM version in force at the end of the as-of day.
    select
        order_features.customer_id,
        order_features.as_of_date,
        customer_versions.acquisition_channel,
        customer_versions.country,
        customer_versions.loyalty_status
    from order_features
    inner join customer_versions
        on
            order_features.customer_id = customer_versions.customer_id
            and customer_versions.valid_from < {{ dbt.dateadd('day', 1, 'order_features.as_of_date') }}
            and (
                customer_versions.valid_to is null
                or customer_versions.valid_to >= {{ dbt.dateadd('day', 1, 'order_features.as_of_date') }}
            )

),

final as (

    select
        -- ids
        order_features.customer_id,

        -- strings (categorical features)
        coalesce(crm_at_as_of_date.acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(crm_at_as_of_date.country, first_purchases.first_order_country, 'unknown') as country,
        coalesce(crm_at_as_of_date.loyalty_status, 'unknown') as loyalty_status,

        -- numerics
        order_features.frequency,
        order_features.recency_days,
        order_features.tenure_days,
        order_features.days_since_last_purchase,
        order_features.monetary_value_usd,
        order_features.avg_purchase_value_usd,
        order_features.avg_days_between_purchases,
        order_features.net_revenue_to_date_usd,
        order_features.first_order_value_usd,
        {%- for window in windows %}
        order_features.orders_{{ window }}d,
        order_features.revenue_{{ window }}d_usd,
        {%- endfor %}
        coalesce(product_diversity.distinct_products, 0) as distinct_products,
        order_features.return_rate,
        order_features.gift_card_share,
        coalesce(web_features.sessions_90d, 0) as sessions_90d,
        coalesce(web_features.avg_session_minutes_90d, 0) as avg_session_minutes_90d,
        coalesce(web_features.add_to_cart_90d, 0) as add_to_cart_90d,

        -- booleans
        web_features.customer_id is not null as has_web_activity_90d,

        -- dates
        order_features.as_of_date,
        order_features.first_purchase_date,
        order_features.last_purchase_date

    from order_features
    left join first_purchases
        on order_features.customer_id = first_purchases.customer_id
    left join crm_at_as_of_date
        on
            order_features.customer_id = crm_at_as_of_date.customer_id
            and order_features.as_of_date = crm_at_as_of_date.as_of_date
    left join product_diversity
        on
            order_features.customer_id = product_diversity.customer_id
            and order_features.as_of_date = product_diversity.as_of_date
    left join web_features
        on
            order_features.customer_id = web_features.customer_id
            and order_features.as_of_date = web_features.as_of_date

)

select * from final
