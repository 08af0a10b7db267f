{{ config(**as_of_date_model_config('features')) }}
{%- set build_dates = as_of_dates_to_build('features') %}
-- One row per customer per as-of date with web sessions in the 90 days up to it.
-- Customers without sessions have no row; fct_customer_features fills zeros. Incremental by
-- as-of date (ADR 0017).

with

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

as_of_dates as (

    select as_of_date from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

final as (

    select
        sessions.customer_id,
        as_of_dates.as_of_date,
        count(*) as sessions_90d,
        -- An integer sum, then one division: a float average would depend on the order the
        -- engine's threads add rows in, and two builds of one lake would differ in the last digit.
        sum({{ dbt.datediff('sessions.session_started_at', 'sessions.session_ended_at', 'second') }})
        / (60.0 * count(*)) as avg_session_minutes_90d,
        sum(sessions.add_to_cart_count) as add_to_cart_90d
    from as_of_dates
    inner join sessions
        on
            sessions.session_date <= as_of_dates.as_of_date
            and sessions.session_date > {{ dbt.dateadd('day', -90, 'as_of_dates.as_of_date') }}
    group by
        sessions.customer_id,
        as_of_dates.as_of_date

)

select * from final
