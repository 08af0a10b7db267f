-- The distribution of predicted CLV at each scored as-of date and model version, in fixed USD
-- bands (the same bands every date, so dates compare), for the customer-value dashboard.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

banded as (

    select
        as_of_date,
        model_version,
        predicted_clv,
        case
            when predicted_clv < 10 then 0
            when predicted_clv < 50 then 10
            when predicted_clv < 100 then 50
            when predicted_clv < 250 then 100
            when predicted_clv < 500 then 250
            when predicted_clv < 1000 then 500
            when predicted_clv < 2500 then 1000
            else 2500
        end as band_lower_usd
    from scores

),

final as (

    select
        as_of_date,
        model_version,
        band_lower_usd,
        case band_lower_usd
            when 0 then '0-10'
            when 10 then '10-50'
            when 50 then '50-100'
            when 100 then '100-250'
            when 250 then '250-500'
            when 500 then '500-1000'
            when 1000 then '1000-2500'
            else '2500+'
        end as clv_band,
        count(*) as customers,
        cast(sum(cast(predicted_clv as {{ dbt.type_numeric() }})) as double precision) as predicted_clv_total
    from banded
    group by
        as_of_date,
        model_version,
        band_lower_usd

)

select * from final
