-- Every pipeline step run: each clv-jobs command and each dbt node run through `clv-jobs dbt`,
-- with its outcome and duration. What the operations dashboard's runs and failures read.

with

pipeline_runs as (

    select * from {{ ref('stg_ml__pipeline_runs') }}

),

final as (

    select
        run_id,
        tool,
        command,
        step_name,
        step_kind,
        status,
        status in ('error', 'fail') as is_failure,
        failures,
        message,
        started_at,
        duration_seconds,
        recorded_at
    from pipeline_runs

)

select * from final
