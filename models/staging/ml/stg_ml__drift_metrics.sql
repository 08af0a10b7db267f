with

source as (

    select * from {{ source('ml', 'drift') }}

),

final as (

    select
        -- ids
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(feature_name as {{ dbt.type_string() }}) as feature_name,

        -- strings
        cast(feature_kind as {{ dbt.type_string() }}) as feature_kind,
        cast(reference as {{ dbt.type_string() }}) as drift_reference,
        cast(status as {{ dbt.type_string() }}) as drift_status,

        -- numerics
        cast(psi as double precision) as psi,
        cast(ks_statistic as double precision) as ks_statistic,
        cast(baseline_null_share as double precision) as baseline_null_share,
        cast(current_null_share as double precision) as current_null_share,
        cast(baseline_rows as {{ dbt.type_bigint() }}) as baseline_rows,
        cast(current_rows as {{ dbt.type_bigint() }}) as current_rows,

        -- dates and timestamps
        cast(as_of_date as date) as as_of_date,
        cast(reference_as_of_date as date) as reference_as_of_date,
        cast(monitored_at as {{ dbt.type_timestamp() }}) as monitored_at

    from source

)

select * from final
