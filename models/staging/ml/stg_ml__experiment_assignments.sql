with

source as (

    select * from {{ source('ml', 'experiment_assignments') }}

),

final as (

    select
        -- ids
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,

        -- strings
        cast(group_name as {{ dbt.type_string() }}) as group_name,
        cast(chosen_by as {{ dbt.type_string() }}) as chosen_by,

        -- numerics
        cast(predicted_clv as double precision) as predicted_clv,

        -- booleans
        cast(is_targeted as boolean) as is_targeted,

        -- dates and timestamps
        cast(assigned_at as {{ dbt.type_timestamp() }}) as assigned_at

    from source

)

select * from final
