-- One row per raw order-line or event table per ingest date: how many rows landed, the share of order lines without
-- a CustomerID, and the volume against the trailing median of the previous days. The limits
-- are dbt vars and tests in _quality__models.yml: a day that breaks one fails the build
-- (then `clv-jobs quarantine add` takes the day out, or the var is set for it).

{%- set trailing = var('clv_volume_trailing_days') %}

with

transaction_lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

),

events as (

    select * from {{ ref('stg_web__events') }}

),

days as (

    select
        'shop.transactions' as source_table,
        ingest_date,
        count(*) as rows_landed,
        count(distinct invoice_no) as orders_landed,
        sum(case when customer_id is null then 1 else 0 end) as null_customer_rows
    from transaction_lines
    group by ingest_date

    union all

    select
        'web.events' as source_table,
        ingest_date,
        count(*) as rows_landed,
        cast(null as {{ dbt.type_bigint() }}) as orders_landed,
        0 as null_customer_rows
    from events
    group by ingest_date

),

trailing_days as (

    select
        days.source_table,
        days.ingest_date,
        count(earlier.ingest_date) as trailing_days,
        percentile_cont(0.5) within group (order by earlier.rows_landed) as trailing_median_rows
    from days
    left join days as earlier
        on
            days.source_table = earlier.source_table
            and earlier.ingest_date < days.ingest_date
            and earlier.ingest_date >= {{ dbt.dateadd('day', -1 * trailing, 'days.ingest_date') }}
    group by
        days.source_table,
        days.ingest_date

),

final as (

    select
        days.source_table,
        days.ingest_date,
        days.rows_landed,
        days.orders_landed,
        days.null_customer_rows,
        1.0 * days.null_customer_rows / days.rows_landed as null_customer_share,
        trailing_days.trailing_days,
        cast(trailing_days.trailing_median_rows as {{ dbt.type_float() }}) as trailing_median_rows,
        case
            when trailing_days.trailing_median_rows > 0
                then days.rows_landed / cast(trailing_days.trailing_median_rows as {{ dbt.type_float() }})
        end as volume_ratio,
        -- Lines come in orders (a basket of several lines): a 20-line day can be five orders, one
        -- guest basket away from any share, so the day needs enough orders as well as lines.
        (
            days.rows_landed >= {{ var('clv_min_rows_for_day_checks') }}
            and days.orders_landed >= {{ var('clv_min_orders_for_day_checks') }}
        ) as is_null_share_judged,
        (
            trailing_days.trailing_days >= 7
            and trailing_days.trailing_median_rows >= {{ var('clv_min_median_rows_for_volume_check') }}
        ) as is_volume_judged
    from days
    inner join trailing_days
        on
            days.source_table = trailing_days.source_table
            and days.ingest_date = trailing_days.ingest_date

)

select * from final
