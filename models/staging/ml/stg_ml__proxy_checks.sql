with

source as (

    select * from {{ source('ml', 'proxy') }}

),

final as (

    select
        -- ids
        cast(model_version as {{ dbt.type_string() }}) as model_version,

        -- numerics
        cast(window_days as {{ dbt.type_bigint() }}) as window_days,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(spearman as double precision) as spearman,
        cast(pearson as double precision) as pearson,
        cast(reference_spearman as double precision) as reference_spearman,
        cast(relative_drop as double precision) as relative_drop,

        -- booleans
        cast(is_triggered as boolean) as is_triggered,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(scored_as_of_date as date) as scored_as_of_date,
        cast(monitored_at as {{ dbt.type_timestamp() }}) as monitored_at

    from source

)

select * from final
