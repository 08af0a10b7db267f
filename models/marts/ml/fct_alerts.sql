-- Every alert raised, with its tier (high, medium, low), rule and route.

with

alerts as (

    select * from {{ ref('stg_ml__alerts') }}

),

final as (

    select
        alert_id,
        tier,
        rule_name,
        raised_by,
        model_version,
        as_of_date,
        message,
        route,
        raised_at
    from alerts

)

select * from final
