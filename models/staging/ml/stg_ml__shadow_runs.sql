with

source as (

    select * from {{ source('ml', 'shadow_runs') }}

),

final as (

    select
        -- ids
        cast(shadow_id as {{ dbt.type_string() }}) as shadow_id,
        cast(champion_version as {{ dbt.type_string() }}) as champion_version,
        cast(challenger_version as {{ dbt.type_string() }}) as challenger_version,

        -- strings
        cast(reasons as {{ dbt.type_string() }}) as reasons,

        -- numerics
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(champion_mean_prediction as double precision) as champion_mean_prediction,
        cast(challenger_mean_prediction as double precision) as challenger_mean_prediction,
        cast(mean_prediction_shift as double precision) as mean_prediction_shift,
        cast(zero_share as double precision) as zero_share,
        cast(missing_share as double precision) as missing_share,
        cast(spearman as double precision) as spearman,
        cast(top_decile_overlap as double precision) as top_decile_overlap,
        cast(champion_seconds as double precision) as champion_seconds,
        cast(challenger_seconds as double precision) as challenger_seconds,
        cast(champion_peak_mb as double precision) as champion_peak_mb,
        cast(challenger_peak_mb as double precision) as challenger_peak_mb,

        -- booleans
        cast(is_passed as boolean) as is_passed,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(shadowed_at as {{ dbt.type_timestamp() }}) as shadowed_at

    from source

)

select * from final
