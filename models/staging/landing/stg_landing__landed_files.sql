-- The landing ledger as `clv-jobs check-landing` wrote it: one row per landed file version.

with

source as (

    select * from {{ source('landing', 'landed_files') }}

),

final as (

    select
        -- ids
        cast(file_path as {{ dbt.type_string() }}) as file_path,
        cast(content_sha256 as {{ dbt.type_string() }}) as content_sha256,

        -- strings
        cast(table_name as {{ dbt.type_string() }}) as table_name,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(rule_name as {{ dbt.type_string() }}) as rule_name,
        cast(message as {{ dbt.type_string() }}) as message,
        cast(quarantine_path as {{ dbt.type_string() }}) as quarantine_path,

        -- numerics
        cast(rows_landed as {{ dbt.type_bigint() }}) as rows_landed,
        cast(rows_erased as {{ dbt.type_bigint() }}) as rows_erased,
        cast(file_bytes as {{ dbt.type_bigint() }}) as file_bytes,

        -- booleans
        is_late,
        is_changed,
        (is_late or is_changed) as is_restatement,

        -- dates and timestamps
        cast(ingest_date as date) as ingest_date,
        cast(min_event_at as {{ dbt.type_timestamp() }}) as min_event_at,
        cast(max_event_at as {{ dbt.type_timestamp() }}) as max_event_at,
        cast(checked_at as {{ dbt.type_timestamp() }}) as checked_at

    from source

)

select * from final
