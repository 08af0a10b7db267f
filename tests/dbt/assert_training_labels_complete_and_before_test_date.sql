-- No training example has an incomplete label, and no train or valid label window (over
-- label_horizon_days, ADR 0015) reaches past the test as-of date (DESIGN §5). Rows returned
-- break the rule.

with

examples as (

    select * from {{ ref('fct_clv_training_examples') }}

),

as_of_dates as (

    select * from {{ ref('int_as_of_dates') }}

),

violations as (

    select
        examples.customer_id,
        examples.as_of_date,
        examples.split,
        examples.label_window_end_date,
        examples.training_window_end_date,
        as_of_dates.data_end_date,
        as_of_dates.test_as_of_date
    from examples
    inner join as_of_dates
        on examples.as_of_date = as_of_dates.as_of_date
    where
        (examples.split not in ('train', 'valid') and examples.label_window_end_date > as_of_dates.data_end_date)
        or (examples.split in ('train', 'valid') and examples.training_window_end_date > as_of_dates.test_as_of_date)
        or (examples.split = 'train' and examples.as_of_date >= as_of_dates.valid_as_of_date)

)

select * from violations
