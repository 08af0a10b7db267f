-- Every experiment with its definition and its newest verdict (null until analyzed).

with

experiments as (

    select * from {{ ref('stg_ml__experiments') }}

),

results as (

    select * from {{ ref('stg_ml__experiment_results') }}

),

verdicts as (

    select
        experiment_id,
        max(verdict) as verdict,
        max(reasons) as reasons,
        max(days_observed) as days_observed,
        max(analyzed_at) as analyzed_at
    from results
    group by experiment_id

),

final as (

    select
        experiments.experiment_id,
        experiments.kind,
        experiments.campaign_id,
        experiments.champion_version,
        experiments.challenger_version,
        experiments.scored_as_of_date,
        experiments.audience_size,
        experiments.treatment_share,
        experiments.exploration_share,
        experiments.starts_on,
        experiments.min_days,
        experiments.created_by,
        experiments.created_at,
        verdicts.verdict,
        verdicts.reasons,
        verdicts.days_observed,
        verdicts.analyzed_at
    from experiments
    left join verdicts
        on experiments.experiment_id = verdicts.experiment_id

)

select * from final
