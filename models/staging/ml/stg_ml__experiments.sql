with

source as (

    select * from {{ source('ml', 'experiments') }}

),

final as (

    select
        -- ids
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(champion_version as {{ dbt.type_string() }}) as champion_version,
        cast(challenger_version as {{ dbt.type_string() }}) as challenger_version,

        -- strings
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(created_by as {{ dbt.type_string() }}) as created_by,

        -- numerics
        cast(audience_size as {{ dbt.type_bigint() }}) as audience_size,
        cast(treatment_share as double precision) as treatment_share,
        cast(exploration_share as double precision) as exploration_share,
        cast(min_days as {{ dbt.type_int() }}) as min_days,

        -- dates and timestamps
        cast(scored_as_of_date as date) as scored_as_of_date,
        cast(starts_on as date) as starts_on,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at

    from source

)

select * from final
