-- One row per quarantined order line: kept, with the rule it broke and the file it came from.
-- Rows are released by fixing the cause (the CRM learns the customer, the shop's start date is
-- corrected, the source re-lands the line) and rebuilding: quarantine is recomputed each build.

with

lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

),

final as (

    select
        customer_id,
        invoice_no,
        stock_code,
        'shop.transactions' as source_table,
        source_file_name,
        quarantine_rule as rule_name,
        description,
        country,
        currency_code,
        quantity,
        unit_price_local,
        ingest_date,
        invoice_date,
        invoiced_at
    from lines
    where quarantine_rule is not null

)

select * from final
