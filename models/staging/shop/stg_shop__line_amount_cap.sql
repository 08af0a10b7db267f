{{ config(materialized='table') }}
-- depends_on: {{ ref('rpt_landing_days') }}
-- (Gated like stg_shop__transactions: a day that fails its landing limits moves no cap.)
-- One row: the outlier cap on order line amounts and the end of the window it is taken over.
-- A table of its own so that the nightly build of stg_shop__transactions sees when the cap moved
-- and rewrites every line (ADR 0018).

with

lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

converted as (

    select
        lines.invoice_date,
        lines.ingest_date,
        {{ line_amount_usd('lines.quantity', 'lines.unit_price_local', 'currency_rates.usd_per_unit') }} as line_amount_usd
    from lines
    inner join currency_rates
        on lines.currency_code = currency_rates.currency_code
    where {{ is_published_line('lines') }}

),

cap_window as (

    select {{ default_test_as_of_date(data_end_date('least(max_invoice_date, max_ingest_date)')) }} as cap_window_end_date
    from (
        select
            max(invoice_date) as max_invoice_date,
            max(ingest_date) as max_ingest_date
        from converted
    ) as bounds

),

final as (

    -- Rule outlier_cap: the percentile of positive line amounts up to the end of the training
    -- window (the test as-of date), so no later data shapes the cap. A null percentile var
    -- turns the cap off. percentile_cont returns a float on PostgreSQL: cast back to a decimal,
    -- in cents, so every engine caps at the same amount, then back to the amounts' own type
    -- (DuckDB would otherwise round every amount in stg_shop__transactions to cents).
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
        ) as line_amount_cap_usd,
        {%- else %}
        max(cast(null as {{ dbt.type_numeric() }})) as line_amount_cap_usd,
        {%- endif %}
        max(cap_window.cap_window_end_date) as cap_window_end_date
    from converted
    cross join cap_window
    where
        converted.line_amount_usd > 0
        and converted.invoice_date <= cap_window.cap_window_end_date

)

select * from final
