-- The accounting identity for order lines: rows landed (the landing ledger: accepted and
-- quarantined files) = rows published (stg_shop__transactions) + rows quarantined (lines in
-- fct_quarantined_rows, whole files in the ledger) + rows removed by a counted rule
-- (rpt_staging_rule_counts). Returns a row when the two sides differ.

with

ledger as (

    select
        sum(case when status = 'accepted' then rows_landed else 0 end) as rows_in_accepted_files,
        sum(case when status = 'quarantined' then coalesce(rows_landed, 0) else 0 end) as rows_in_quarantined_files
    from {{ ref('stg_landing__landed_files') }}
    where table_name = 'transactions'

),

published as (

    select count(*) as rows_published from {{ ref('stg_shop__transactions') }}

),

quarantined as (

    select count(*) as rows_quarantined from {{ ref('fct_quarantined_rows') }}

),

removed as (

    select sum(rows_affected) as rows_removed
    from {{ ref('rpt_staging_rule_counts') }}
    where source_table = 'shop.transactions' and rule_action = 'removed'

),

final as (

    select
        ledger.rows_in_accepted_files + ledger.rows_in_quarantined_files as rows_landed,
        published.rows_published,
        quarantined.rows_quarantined + ledger.rows_in_quarantined_files as rows_quarantined,
        removed.rows_removed
    from ledger
    cross join published
    cross join quarantined
    cross join removed

)

select * from final
where rows_landed != rows_published + rows_quarantined + rows_removed
