-- One row per landed file version: accepted, quarantined (with its rule), superseded by a
-- changed file, removed, or released from the quarantine. The landing ledger, published.

with

landed_files as (

    select * from {{ ref('stg_landing__landed_files') }}

),

final as (

    select
        file_path,
        content_sha256,
        table_name,
        file_name,
        status,
        rule_name,
        message,
        quarantine_path,
        rows_landed,
        rows_erased,
        file_bytes,
        is_late,
        is_changed,
        is_restatement,
        ingest_date,
        min_event_at,
        max_event_at,
        checked_at
    from landed_files

)

select * from final
