-- Every training run's test metrics: the candidate, each baseline and (on synthetic data) the
-- oracle, overall and per slice, one metric per row. The champion-vs-baselines table reads this.

with

evaluations as (

    select * from {{ ref('stg_ml__model_evaluations') }}

),

final as (

    select
        run_id,
        model_version,
        test_as_of_date,
        model_name,
        slice_name,
        slice_value,
        metric_name,
        metric_value
    from evaluations

)

select * from final
