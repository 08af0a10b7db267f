-- Every shadow run: a challenger scored beside the champion on the champion's population, never
-- published as scores; the comparison and the verdict.

with

shadow_runs as (

    select * from {{ ref('stg_ml__shadow_runs') }}

),

final as (

    select
        shadow_id,
        as_of_date,
        champion_version,
        challenger_version,
        customers,
        champion_mean_prediction,
        challenger_mean_prediction,
        mean_prediction_shift,
        zero_share,
        missing_share,
        spearman,
        top_decile_overlap,
        champion_seconds,
        challenger_seconds,
        champion_peak_mb,
        challenger_peak_mb,
        is_passed,
        reasons,
        shadowed_at
    from shadow_runs

)

select * from final
