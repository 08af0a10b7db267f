{{
    config(**customer_rebuild_config(
        inputs=['stg_shop__transaction_lines'],
        sort=['invoice_date', 'customer_id'],
        also_rebuild_all_when='outlier_cap_moved()',
    ))
}}
-- depends_on: {{ ref('rpt_landing_days') }}
-- (The per-ingest-date limits gate publishing: a day whose null share or volume fails its test
-- skips this model and everything built on it, so the marts keep their last good state.)
-- One row per published order line. A table, not a view: three models read it.
-- Incremental by customer (ADR 0018): a nightly build rewrites the customers whose lines were
-- restaged, and every customer when the outlier cap moved.

with

lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

renamed as (

    select
        customer_id,
        invoice_no,
        stock_code,
        description,
        country,
        currency_code,
        quantity,
        unit_price_local,
        upper(invoice_no) like 'C%' as is_cancellation,
        (upper(stock_code) like 'GC-%' or lower(stock_code) like 'gift%') as is_gift_card,
        ingest_date,
        invoice_date,
        invoiced_at
    from lines
    -- Lines removed by a counted rule (null_customer_id, exact_duplicate_line) or quarantined
    -- (quality.fct_quarantined_rows) never reach a feature or a label.
    where
        {{ is_published_line() }}
        and {{ customer_not_built('lines.customer_id') }}

),

converted as (

    select
        renamed.*,
        renamed.quantity < 0 as is_return,
        {{ line_amount_usd('renamed.quantity', 'renamed.unit_price_local', 'currency_rates.usd_per_unit') }}
            as line_amount_usd
    from renamed
    -- An unknown currency fails the relationships test on the source before this runs.
    inner join currency_rates
        on renamed.currency_code = currency_rates.currency_code

),

outlier_cap as (

    select * from {{ ref('stg_shop__line_amount_cap') }}

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
        converted.ingest_date,
        converted.invoice_date,
        converted.invoiced_at,
        {{ run_started_at_sql() }} as built_at
    from converted
    cross join outlier_cap

)

select * from final
