with

source as (

    select * from {{ source('ml', 'decisions') }}

),

final as (

    select
        -- ids
        cast(decision_id as {{ dbt.type_string() }}) as decision_id,
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- strings
        cast(action as {{ dbt.type_string() }}) as decision,
        cast(reasons as {{ dbt.type_string() }}) as reasons,
        cast(decided_by as {{ dbt.type_string() }}) as decided_by,

        -- numerics
        cast(normalized_gini as double precision) as normalized_gini,
        cast(rmse as double precision) as rmse,

        -- dates and timestamps
        cast(test_as_of_date as date) as test_as_of_date,
        cast(decided_at as {{ dbt.type_timestamp() }}) as decided_at

    from source

)

select * from final
