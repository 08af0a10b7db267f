{%- set published = 'removed_by_rule is null and quarantine_rule is null' %}
{{
    config(**customer_rebuild_config(
        pre_hook="{{ delete_customers_gone(ref('stg_shop__transaction_lines'), '" ~ published ~ "') }}",
        sort=['invoice_date', 'customer_id'],
    ))
}}
-- depends_on: {{ ref('rpt_landing_days') }}
-- (The per-ingest-date limits gate publishing: a day whose null share or volume fails its test
-- skips this model and everything built on it, so the marts keep their last good state.)
-- One row per published order line. A table, not a view: three models read it and the outlier
-- cap is a percentile over the whole training window, which a view would recompute for each.
-- Incremental by customer (ADR 0018): a nightly build rewrites the customers whose published
-- lines changed, and every customer when the cap moved.
{%- set line_columns = ['customer_id', 'invoice_no', 'stock_code', 'description', 'country', 'currency_code',
    'quantity', 'unit_price_local', 'ingest_date', 'invoice_date', 'invoiced_at'] %}

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
    where {{ published }}

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

    select {{ default_test_as_of_date(data_end_date('least(max_invoice_date, max_ingest_date)')) }} as cap_window_end_date
    from (
        select
            max(invoice_date) as max_invoice_date,
            max(ingest_date) as max_ingest_date
        from converted
    ) as bounds

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

{%- if is_incremental() %}

latest_fingerprints as (

    {{ customer_fingerprints('lines', line_columns, published) }}

),

built_fingerprints as (

    -- The cap each customer's rows were built with joins the fingerprint: a moved cap
    -- rebuilds everyone.
    select
        built.customer_id,
        case
            when coalesce(built.line_amount_cap_usd, -1) = coalesce(outlier_cap.line_amount_cap_usd, -1)
                then built.fingerprint
        end as fingerprint
    from (
        select
            customer_id,
            max(line_amount_cap_usd) as line_amount_cap_usd,
            {{ hash_sum(row_hash(line_columns)) }} as fingerprint
        from {{ this }}
        group by customer_id
    ) as built
    cross join outlier_cap

),

customers_to_build as (

    {{ customers_changed('latest_fingerprints', 'built_fingerprints') }}

),

{%- endif %}

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
        converted.invoiced_at
    from converted
    cross join outlier_cap
    {%- if is_incremental() %}
    inner join customers_to_build
        on converted.customer_id = customers_to_build.customer_id
    {%- endif %}

)

select * from final
