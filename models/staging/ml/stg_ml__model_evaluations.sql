with

source as (

    select * from {{ source('ml', 'evaluations') }}

),

final as (

    select
        -- ids
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(model_name as {{ dbt.type_string() }}) as model_name,
        cast(slice_name as {{ dbt.type_string() }}) as slice_name,
        cast(slice_value as {{ dbt.type_string() }}) as slice_value,
        cast(metric as {{ dbt.type_string() }}) as metric_name,

        -- numerics
        cast(value as double precision) as metric_value,

        -- dates
        cast(test_as_of_date as date) as test_as_of_date

    from source

)

select * from final
