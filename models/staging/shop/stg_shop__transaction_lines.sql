{{ config(**landed_file_staging_config('shop', 'transactions', by_customer=true)) }}
-- depends_on: {{ ref('stg_landing__landed_files') }}
-- (tests/dbt/assert_raw_files_match_landing_ledger gates this model: a file the landing guard
-- never checked stops the build before any line of it is published.)
-- Every landed order line, typed, with the landed file it came from and the first rule it breaks.
-- stg_shop__transactions keeps the lines that break none; quality.fct_quarantined_rows keeps the
-- quarantined ones; rpt_staging_rule_counts counts every rule. So every landed line is accounted
-- for: published, quarantined, or removed by a counted rule (tests/dbt/assert_landed_rows_accounted_for).
-- Incremental by landed file (ADR 0018): a nightly build reads the new (and restated) files and
-- rebuilds every line of the customers in them, so the cross-file rules see all of a customer's
-- lines; a full build reads every file. Either way each line comes out of the same rules below.
-- A change to a rule or its vars needs --full-refresh.
{%- set files = landed_files_to_stage(source('shop', 'transactions'), 'transactions', log_summary=true) %}

with

source as (

    select * from {{ source('shop', 'transactions') }}
    where {{ landed_file_in(files) }}

),

crm_customers as (

    select distinct customer_id from {{ ref('stg_shop__customers') }}

),

ledger as (

    {{ accepted_landed_files('transactions') }}

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

landed_lines as (

    -- the version of the file the line came from, to see a restated file again
    select
        typed.*,
        ledger.content_sha256 as source_file_sha256
    from typed
    left join ledger
        on
            typed.ingest_date = ledger.ingest_date
            and typed.source_file_name = ledger.file_name

),

{%- if files is not none %}

-- (the staged lines are read where they are needed, never as one CTE: an engine may copy a CTE
-- read twice, and this one is every line staged)
files_read as (

    select distinct
        ingest_date,
        source_file_name
    from landed_lines

),

crm_status_changed as (

    -- Customers the CRM learned (their lines were quarantined as unknown) or forgot.
    select distinct staged.customer_id
    from {{ this }} as staged
    left join crm_customers
        on staged.customer_id = crm_customers.customer_id
    where
        staged.removed_by_rule is null
        and coalesce(staged.quarantine_rule, 'zero_quantity') in ('unknown_customer', 'zero_quantity')
        and coalesce(staged.quarantine_rule = 'unknown_customer', false) = (crm_customers.customer_id is not null)

),

customers_to_rebuild as (

    select customer_id from landed_lines
    where customer_id is not null
    union
    -- the customers of a restated file's previous version
    select staged.customer_id
    from {{ this }} as staged
    inner join files_read
        on
            staged.ingest_date = files_read.ingest_date
            and staged.source_file_name = files_read.source_file_name
    where staged.customer_id is not null
    union
    select customer_id from crm_status_changed

),

lines as (

    select * from landed_lines
    union all
    select
        staged.customer_id,
        staged.invoice_no,
        staged.stock_code,
        staged.source_file_name,
        staged.description,
        staged.country,
        staged.currency_code,
        staged.quantity,
        staged.unit_price_local,
        staged.ingest_date,
        staged.invoice_date,
        staged.invoiced_at,
        staged.source_file_sha256
    from {{ this }} as staged
    inner join customers_to_rebuild
        on staged.customer_id = customers_to_rebuild.customer_id
    left join files_read
        on
            staged.ingest_date = files_read.ingest_date
            and staged.source_file_name = files_read.source_file_name
    -- a file read again replaces its previous version
    where files_read.source_file_name is null

),

{%- else %}

lines as (

    select * from landed_lines

),

{%- endif %}

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
    from lines

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
        source_file_sha256,
        description,
        country,
        currency_code,
        removed_by_rule,
        case when removed_by_rule is null then quarantine_rule end as quarantine_rule,
        quantity,
        unit_price_local,
        ingest_date,
        invoice_date,
        invoiced_at,
        {{ run_started_at_sql() }} as built_at
    from checked

)

select * from final
