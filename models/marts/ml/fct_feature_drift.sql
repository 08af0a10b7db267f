-- Drift of every monitored feature and prediction at each monitored as-of date, against the
-- training baseline of the model that scored that date (clv-jobs monitor).

with

drift as (

    select * from {{ ref('stg_ml__drift_metrics') }}

),

final as (

    select
        as_of_date,
        model_version,
        feature_name,
        feature_kind,
        drift_reference,
        reference_as_of_date,
        drift_status,
        psi,
        ks_statistic,
        baseline_null_share,
        current_null_share,
        baseline_rows,
        current_rows,
        monitored_at
    from drift

)

select * from final
