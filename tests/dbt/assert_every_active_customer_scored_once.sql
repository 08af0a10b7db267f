{{ config(tags=['ml']) }}
-- Every customer with features at a scored as-of date is scored exactly once per model version,
-- and nobody else is. Rows returned are missing, extra or duplicated customers. A scored day off
-- the month-end spine is checked while its features are built (ADR 0016): a later build drops them.

with

scores as (

    select * from {{ ref('fct_clv_scores') }}

),

features as (

    select * from {{ ref('fct_customer_features') }}

),

scored_runs as (

    select distinct
        as_of_date,
        model_version
    from scores
    where as_of_date in (select features.as_of_date from features)

),

expected as (

    select
        features.customer_id,
        scored_runs.as_of_date,
        scored_runs.model_version
    from scored_runs
    inner join features
        on scored_runs.as_of_date = features.as_of_date

),

actual as (

    select
        customer_id,
        as_of_date,
        model_version,
        count(*) as times_scored
    from scores
    group by
        customer_id,
        as_of_date,
        model_version

),

violations as (

    select
        coalesce(expected.customer_id, actual.customer_id) as customer_id,
        coalesce(expected.as_of_date, actual.as_of_date) as as_of_date,
        coalesce(expected.model_version, actual.model_version) as model_version,
        coalesce(actual.times_scored, 0) as times_scored
    from expected
    full outer join actual
        on
            expected.customer_id = actual.customer_id
            and expected.as_of_date = actual.as_of_date
            and expected.model_version = actual.model_version
    where
        expected.customer_id is null
        or actual.customer_id is null
        or actual.times_scored != 1

)

select * from violations
