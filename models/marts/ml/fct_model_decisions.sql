-- Every registry decision with the metrics it was made on: the audit trail of the champion.

with

decisions as (

    select * from {{ ref('stg_ml__model_decisions') }}

),

final as (

    select
        decision_id,
        run_id,
        model_version,
        decision,
        reasons,
        decided_by,
        normalized_gini,
        rmse,
        test_as_of_date,
        decided_at
    from decisions

)

select * from final
