-- Every metric of each experiment's newest analysis: control and treatment values, the
-- difference with its 95 % interval, the relative lift, the p-value, pass or fail, and the
-- verdict (adopt, reject, inconclusive) with its reasons. The approval step reads the verdict.

with

results as (

    select * from {{ ref('stg_ml__experiment_results') }}

),

final as (

    select
        experiment_id,
        metric_name,
        metric_role,
        control_value,
        treatment_value,
        difference,
        ci_low,
        ci_high,
        relative_lift,
        p_value,
        control_users,
        treatment_users,
        is_passed,
        verdict,
        reasons,
        days_observed,
        analyzed_at
    from results

)

select * from final
