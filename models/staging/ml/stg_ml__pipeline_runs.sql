with

source as (

    select * from {{ source('ml', 'pipeline_runs') }}

),

final as (

    select
        -- ids
        cast(run_id as {{ dbt.type_string() }}) as run_id,

        -- strings
        cast(tool as {{ dbt.type_string() }}) as tool,
        cast(command as {{ dbt.type_string() }}) as command,
        cast(step_name as {{ dbt.type_string() }}) as step_name,
        cast(step_kind as {{ dbt.type_string() }}) as step_kind,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(message as {{ dbt.type_string() }}) as message,

        -- numerics
        cast(failures as {{ dbt.type_bigint() }}) as failures,
        cast(duration_seconds as double precision) as duration_seconds,

        -- dates and timestamps
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(recorded_at as {{ dbt.type_timestamp() }}) as recorded_at

    from source

)

select * from final
