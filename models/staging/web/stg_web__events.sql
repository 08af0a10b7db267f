{{ config(**landed_file_staging_config('web', 'events', by_customer=false)) }}
-- depends_on: {{ ref('stg_landing__landed_files') }}
-- Every landed clickstream event, typed, with the landed file it came from. A table appended by
-- landed file (ADR 0018): no rule looks across events, so a nightly build reads only the new and
-- restated files (a restated file's previous rows go first, in the pre-hook) and every model
-- and test downstream reads a table instead of every landed file again.
{%- set files = landed_files_to_stage(source('web', 'events'), 'events', log_summary=true) %}

with

source as (

    select * from {{ source('web', 'events') }}
    where {{ landed_file_in(files) }}

),

ledger as (

    {{ accepted_landed_files('events') }}

),

typed as (

    select
        -- ids
        cast(event_id as {{ dbt.type_bigint() }}) as event_id,
        cast(session_id as {{ dbt.type_bigint() }}) as session_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,

        -- strings
        event_type,
        {{ landed_file_name() }} as source_file_name,

        -- booleans
        customer_id is null as is_anonymous,

        -- dates and timestamps
        cast(ingest_date as date) as ingest_date,
        cast(event_timestamp as date) as event_date,
        cast(event_timestamp as {{ dbt.type_timestamp() }}) as event_at

    from source

),

final as (

    select
        typed.*,
        -- the version of the file the event came from, to see a restated file again
        ledger.content_sha256 as source_file_sha256,
        {{ run_started_at_sql() }} as built_at
    from typed
    left join ledger
        on
            typed.ingest_date = ledger.ingest_date
            and typed.source_file_name = ledger.file_name

)

select * from final
