with

source as (

    select * from {{ source('ml', 'experiment_results') }}

),

final as (

    select
        -- ids
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,

        -- strings
        cast(metric_name as {{ dbt.type_string() }}) as metric_name,
        cast(role as {{ dbt.type_string() }}) as metric_role,
        cast(verdict as {{ dbt.type_string() }}) as verdict,
        cast(reasons as {{ dbt.type_string() }}) as reasons,

        -- numerics
        cast(control_value as double precision) as control_value,
        cast(treatment_value as double precision) as treatment_value,
        cast(difference as double precision) as difference,
        cast(ci_low as double precision) as ci_low,
        cast(ci_high as double precision) as ci_high,
        cast(relative_lift as double precision) as relative_lift,
        cast(p_value as double precision) as p_value,
        cast(control_users as {{ dbt.type_bigint() }}) as control_users,
        cast(treatment_users as {{ dbt.type_bigint() }}) as treatment_users,
        cast(days_observed as {{ dbt.type_int() }}) as days_observed,

        -- booleans
        cast(is_passed as boolean) as is_passed,

        -- dates and timestamps
        cast(analyzed_at as {{ dbt.type_timestamp() }}) as analyzed_at

    from source

)

select * from final
