{{ config(**as_of_date_model_config('examples')) }}
{%- set build_dates = as_of_dates_to_build('examples') %}
-- Features joined to complete labels, with the split of their as-of date (int_as_of_dates):
-- train and valid rows need their label window (label_horizon_days) complete, the others the
-- whole horizon.

with

features as (

    select * from {{ ref('fct_customer_features') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

labels as (

    select * from {{ ref('fct_customer_labels') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_in('as_of_date', build_dates) }}

),

final as (

    select
        features.*,
        labels.revenue_next_horizon_usd,
        labels.revenue_next_label_window_usd,
        labels.revenue_next_90d_usd,
        labels.is_active_next_180d,
        labels.horizon_days,
        labels.label_horizon_days,
        as_of_dates.split,
        labels.label_window_end_date,
        labels.training_window_end_date
    from features
    inner join labels
        on
            features.customer_id = labels.customer_id
            and features.as_of_date = labels.as_of_date
    inner join as_of_dates
        on features.as_of_date = as_of_dates.as_of_date
    where labels.is_label_complete or as_of_dates.split in ('train', 'valid')

)

select * from final
