{{
    config(
        materialized='table',
        dist='customer_id',
        sort=['invoice_date', 'customer_id'],
    )
}}
-- A table, not a view: three models read it and the outlier cap is a percentile over the
-- whole training window, which a view would recompute for each of them.

with

source as (

    select * from {{ source('shop', 'transactions') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

renamed as (

    select
        -- ids
        cast("CustomerID" as {{ dbt.type_string() }}) as customer_id,
        cast("InvoiceNo" as {{ dbt.type_string() }}) as invoice_no,
        cast("StockCode" as {{ dbt.type_string() }}) as stock_code,

        -- strings
        "Description" as description,
        "Country" as country,
        upper("Currency") as currency_code,

        -- numerics
        cast("Quantity" as integer) as quantity,
        cast("UnitPrice" as {{ dbt.type_numeric() }}) as unit_price_local,

        -- booleans
        upper("InvoiceNo") like 'C%' as is_cancellation,
        (upper("StockCode") like 'GC-%' or lower("StockCode") like 'gift%') as is_gift_card,

        -- dates and timestamps
        cast("InvoiceDate" as date) as invoice_date,
        cast("InvoiceDate" as {{ dbt.type_timestamp() }}) as invoiced_at

    from source
    -- Rule null_customer_id: guest lines cannot be attributed; counted in rpt_staging_rule_counts.
    where "CustomerID" is not null

),

converted as (

    select
        renamed.*,
        renamed.quantity < 0 as is_return,
        cast(renamed.quantity * renamed.unit_price_local * currency_rates.usd_per_unit as {{ dbt.type_numeric() }})
            as line_amount_usd
    from renamed
    -- An unknown currency fails the relationships test on the source before this runs.
    inner join currency_rates
        on renamed.currency_code = currency_rates.currency_code

),

cap_window as (

    select {{ default_test_as_of_date(data_end_date('max_invoice_date')) }} as cap_window_end_date
    from (select max(invoice_date) as max_invoice_date from converted) as bounds

),

outlier_cap as (

    -- Rule outlier_cap: the percentile of positive line amounts up to the end of the training
    -- window (the test as-of date), so no later data shapes the cap. A null percentile var
    -- turns the cap off. percentile_cont returns a float on PostgreSQL: cast back to a decimal,
    -- in cents, so every engine caps at the same amount, then back to the amounts' own type
    -- (DuckDB would otherwise round every amount in the case expression below to cents).
    select
        {%- if var('clv_outlier_percentile') is not none %}
        cast(
            round(
                cast(
                    percentile_cont({{ var('clv_outlier_percentile') }}) within group (
                        order by converted.line_amount_usd
                    ) as {{ dbt.type_numeric() }}
                ),
                2
            ) as {{ dbt.type_numeric() }}
        ) as line_amount_cap_usd
        {%- else %}
        max(cast(null as {{ dbt.type_numeric() }})) as line_amount_cap_usd
        {%- endif %}
    from converted
    cross join cap_window
    where
        converted.line_amount_usd > 0
        and converted.invoice_date <= cap_window.cap_window_end_date

),

final as (

    select
        converted.customer_id,
        converted.invoice_no,
        converted.stock_code,
        converted.description,
        converted.country,
        converted.currency_code,
        converted.quantity,
        converted.unit_price_local,
        converted.line_amount_usd as line_amount_uncapped_usd,
        case
            when converted.line_amount_usd > outlier_cap.line_amount_cap_usd then outlier_cap.line_amount_cap_usd
            when converted.line_amount_usd < -1 * outlier_cap.line_amount_cap_usd
                then -1 * outlier_cap.line_amount_cap_usd
            else converted.line_amount_usd
        end as line_amount_usd,
        outlier_cap.line_amount_cap_usd,
        converted.is_cancellation,
        converted.is_return,
        converted.is_gift_card,
        coalesce(abs(converted.line_amount_usd) > outlier_cap.line_amount_cap_usd, false) as is_amount_capped,
        converted.invoice_date,
        converted.invoiced_at
    from converted
    cross join outlier_cap

)

select * from final
