{{
    config(
        materialized='table',
        dist='customer_id',
        sort=['ingest_date'],
    )
}}
-- depends_on: {{ ref('stg_landing__landed_files') }}
-- (tests/dbt/assert_raw_files_match_landing_ledger gates this model: a file the landing guard
-- never checked stops the build before any line of it is published.)
-- Every landed order line, typed, with the landed file it came from and the first rule it breaks.
-- stg_shop__transactions keeps the lines that break none; quality.fct_quarantined_rows keeps the
-- quarantined ones; rpt_staging_rule_counts counts every rule. So every landed line is accounted
-- for: published, quarantined, or removed by a counted rule (tests/dbt/assert_landed_rows_accounted_for).

with

source as (

    select * from {{ source('shop', 'transactions') }}

),

crm_customers as (

    select distinct customer_id from {{ ref('stg_shop__customers') }}

),

typed as (

    select
        -- ids
        cast("CustomerID" as {{ dbt.type_string() }}) as customer_id,
        cast("InvoiceNo" as {{ dbt.type_string() }}) as invoice_no,
        cast("StockCode" as {{ dbt.type_string() }}) as stock_code,

        -- strings
        {{ landed_file_name() }} as source_file_name,
        "Description" as description,
        "Country" as country,
        upper("Currency") as currency_code,

        -- numerics
        cast("Quantity" as integer) as quantity,
        cast("UnitPrice" as {{ dbt.type_numeric() }}) as unit_price_local,

        -- dates and timestamps
        cast(ingest_date as date) as ingest_date,
        cast("InvoiceDate" as date) as invoice_date,
        cast("InvoiceDate" as {{ dbt.type_timestamp() }}) as invoiced_at

    from source

),

numbered as (

    -- Rule exact_duplicate_line: a line repeated to the last column, in one file or across
    -- files, is one line; the first landed copy stays.
    select
        *,
        row_number() over (
            partition by
                customer_id, invoice_no, stock_code, description, country, currency_code,
                quantity, unit_price_local, invoiced_at
            order by ingest_date, source_file_name
        ) as copy_number
    from typed

),

checked as (

    select
        numbered.*,
        case
            when numbered.customer_id is null then 'null_customer_id'
            when numbered.copy_number > 1 then 'exact_duplicate_line'
        end as removed_by_rule,
        case
            -- An event dated after its landing (beyond a tolerance for time zones and late
            -- batches) is impossible, and would move the as-of spine into the future.
            when numbered.invoice_date
                > {{ dbt.dateadd('day', var('clv_max_days_event_after_ingest'), 'numbered.ingest_date') }}
                then 'event_date_after_ingest_date'
            when numbered.invoice_date < cast('{{ var("clv_shop_start_date") }}' as date)
                then 'event_date_before_shop_start'
            when not {{ dbt_expectations.regexp_matches('numbered.customer_id', var('clv_customer_id_regex')) }}
                then 'customer_id_pattern'
            when crm_customers.customer_id is null then 'unknown_customer'
            when numbered.quantity = 0 then 'zero_quantity'
        end as quarantine_rule
    from numbered
    left join crm_customers
        on numbered.customer_id = crm_customers.customer_id

),

final as (

    select
        customer_id,
        invoice_no,
        stock_code,
        source_file_name,
        description,
        country,
        currency_code,
        removed_by_rule,
        case when removed_by_rule is null then quarantine_rule end as quarantine_rule,
        quantity,
        unit_price_local,
        ingest_date,
        invoice_date,
        invoiced_at
    from checked

)

select * from final
