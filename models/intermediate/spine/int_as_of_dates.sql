-- The as-of spine: month ends over the data, the label window each one needs, whether that
-- window is fully observed, and the train / valid / test split (DESIGN §5):
--   test  = the test as-of date T (var, else the latest month end with a complete label);
--   valid = the latest as-of date V whose label window ends on or before T;
--   train = as-of dates before V.  Complete dates between V and T are 'unused', so no
--   validation or training label reaches into the test period's future.
-- Train and valid are labelled over label_horizon_days: the horizon when the history allows it,
-- else the longest window that still leaves one train date before V (or the var
-- clv_label_horizon_days); the models carry their predictions to the horizon (ADR 0015).
-- Days in the var clv_score_as_of_dates join the spine unsplit (split null), so they are scored
-- with the same point-in-time features but never trained or validated on (ADR 0016).

{%- set horizon = var('clv_horizon_days') %}
{%- set first_date = "cast('" ~ var('clv_as_of_first_date') ~ "' as date)" if var('clv_as_of_first_date') else "data_start_date" %}
{%- set last_date = "cast('" ~ var('clv_as_of_last_date') ~ "' as date)" if var('clv_as_of_last_date') else "data_end_date" %}
{%- set max_dates = 1200 if var('clv_as_of_first_date') else var('clv_as_of_months') %}
{%- set forced_label_horizon = var('clv_label_horizon_days', none) %}
{%- set score_dates = var('clv_score_as_of_dates', []) %}

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

dates_before_test as (

    select
        as_of_date,
        test_as_of_date,
        row_number() over (order by as_of_date) as date_number
    from selected
    where as_of_date < test_as_of_date

),

-- The shortest history that trains: one train date, then valid on the second date.
shortest_history as (

    select
        min(as_of_date) as first_as_of_date,
        max(case when date_number = 2 then as_of_date end) as second_as_of_date,
        max(test_as_of_date) as test_as_of_date
    from dates_before_test

),

full_horizon_validation as (

    select max(as_of_date) as valid_as_of_date
    from selected
    where label_window_end_date <= test_as_of_date

),

label_window as (

    select
        {%- if forced_label_horizon %}
        least({{ horizon }}, {{ forced_label_horizon }}) as label_horizon_days
        {%- else %}
        case
            when full_horizon_validation.valid_as_of_date > shortest_history.first_as_of_date then {{ horizon }}
            else coalesce(
                least({{ horizon }}, {{ dbt.datediff('shortest_history.second_as_of_date', 'shortest_history.test_as_of_date', 'day') }}),
                {{ horizon }}
            )
        end as label_horizon_days
        {%- endif %}
    from full_horizon_validation
    cross join shortest_history

),

labelled as (

    select
        selected.*,
        label_window.label_horizon_days,
        cast({{ dbt.dateadd('day', 'label_window.label_horizon_days', 'selected.as_of_date') }} as date)
            as training_window_end_date
    from selected
    cross join label_window

),

validation_date as (

    select max(as_of_date) as valid_as_of_date
    from labelled
    where training_window_end_date <= test_as_of_date

),

month_end_dates as (

    select
        labelled.as_of_date,
        labelled.label_window_end_date,
        labelled.training_window_end_date,
        labelled.data_start_date,
        labelled.data_end_date,
        labelled.test_as_of_date,
        validation_date.valid_as_of_date,
        {{ horizon }} as horizon_days,
        labelled.label_horizon_days,
        labelled.label_window_end_date <= labelled.data_end_date as is_label_complete,
        case
            when labelled.as_of_date = labelled.test_as_of_date
                then case when labelled.label_window_end_date <= labelled.data_end_date then 'test' end
            when labelled.as_of_date = validation_date.valid_as_of_date then 'valid'
            when labelled.as_of_date < validation_date.valid_as_of_date then 'train'
            when labelled.label_window_end_date <= labelled.data_end_date then 'unused'
        end as split
    from labelled
    cross join validation_date

),
{%- if score_dates %}

score_dates as (

    {%- for score_date in score_dates %}
    select cast('{{ score_date }}' as date) as as_of_date
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

score_date_windows as (

    select
        score_dates.as_of_date,
        cast({{ dbt.dateadd('day', horizon, 'score_dates.as_of_date') }} as date) as label_window_end_date,
        cast({{ dbt.dateadd('day', 'label_window.label_horizon_days', 'score_dates.as_of_date') }} as date)
            as training_window_end_date,
        bounds.data_start_date,
        bounds.data_end_date,
        {{ default_test_as_of_date('bounds.data_end_date') }} as test_as_of_date,
        validation_date.valid_as_of_date,
        label_window.label_horizon_days
    from score_dates
    cross join bounds
    cross join label_window
    cross join validation_date
    -- Within the landed data, and not already on the spine.
    where
        score_dates.as_of_date >= bounds.data_start_date
        and score_dates.as_of_date <= bounds.data_end_date
        and score_dates.as_of_date not in (select month_end_dates.as_of_date from month_end_dates)

),
{%- endif %}

final as (

    select * from month_end_dates
    {%- if score_dates %}
    union all
    select
        as_of_date,
        label_window_end_date,
        training_window_end_date,
        data_start_date,
        data_end_date,
        test_as_of_date,
        valid_as_of_date,
        {{ horizon }} as horizon_days,
        label_horizon_days,
        label_window_end_date <= data_end_date as is_label_complete,
        cast(null as {{ dbt.type_string() }}) as split
    from score_date_windows
    {%- endif %}

)

select * from final
