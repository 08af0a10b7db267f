-- The as-of spine: month ends over the data, the label window each one needs, whether that
-- window is fully observed, and the train / valid / test split (DESIGN §5):
--   test  = the test as-of date T (var, else the latest month end with a complete label);
--   valid = the latest as-of date V whose label window ends on or before T;
--   train = as-of dates before V.  Complete dates between V and T are 'unused', so no
--   validation or training label reaches into the test period's future.

{%- set horizon = var('clv_horizon_days') %}
{%- set first_date = "cast('" ~ var('clv_as_of_first_date') ~ "' as date)" if var('clv_as_of_first_date') else "data_start_date" %}
{%- set last_date = "cast('" ~ var('clv_as_of_last_date') ~ "' as date)" if var('clv_as_of_last_date') else "data_end_date" %}
{%- set max_dates = 1200 if var('clv_as_of_first_date') else var('clv_as_of_months') %}

with

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

bounds as (

    select
        min(invoice_date) as data_start_date,
        -- Bounded by the newest landing, never by an event date a source system claims.
        {{ data_end_date('least(max(invoice_date), max(ingest_date))') }} as data_end_date
    from transactions

),

month_numbers as (

    {{ generate_integers(1200) }}

),

month_ends as (

    select
        {{ month_end_on_or_before(
            dbt.dateadd('month', 'month_numbers.n + 1', dbt.date_trunc('month', 'bounds.data_start_date'))
        ) }} as as_of_date,
        bounds.data_start_date,
        bounds.data_end_date
    from bounds
    cross join month_numbers

),

in_range as (

    select
        *,
        row_number() over (order by as_of_date desc) as recency_rank
    from month_ends
    where
        as_of_date >= data_start_date
        and as_of_date <= data_end_date
        and as_of_date >= {{ first_date }}
        and as_of_date <= {{ last_date }}

),

selected as (

    select
        as_of_date,
        data_start_date,
        data_end_date,
        cast({{ dbt.dateadd('day', horizon, 'as_of_date') }} as date) as label_window_end_date,
        {{ default_test_as_of_date('data_end_date') }} as test_as_of_date
    from in_range
    where recency_rank <= {{ max_dates }}

),

validation_date as (

    select max(as_of_date) as valid_as_of_date
    from selected
    where label_window_end_date <= test_as_of_date

),

final as (

    select
        selected.as_of_date,
        selected.label_window_end_date,
        selected.data_start_date,
        selected.data_end_date,
        selected.test_as_of_date,
        validation_date.valid_as_of_date,
        {{ horizon }} as horizon_days,
        selected.label_window_end_date <= selected.data_end_date as is_label_complete,
        case
            when selected.label_window_end_date > selected.data_end_date then null
            when selected.as_of_date = selected.test_as_of_date then 'test'
            when selected.as_of_date = validation_date.valid_as_of_date then 'valid'
            when selected.as_of_date < validation_date.valid_as_of_date then 'train'
            else 'unused'
        end as split
    from selected
    cross join validation_date

)

select * from final
