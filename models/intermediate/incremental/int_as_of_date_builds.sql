{{ config(materialized='incremental', on_schema_change='fail') }}
-- The as-of dates each per-as-of-date incremental model holds, with the fingerprint of the
-- inputs it built them from (int_as_of_date_fingerprints plus the model's own definition).
-- The models' hooks write it (macros/incremental/as_of_date_builds.sql); this model only owns
-- the table, so a --full-refresh of it makes every such model rebuild every date (ADR 0017).

select
    cast(null as {{ dbt.type_string() }}) as model_name,
    cast(null as date) as as_of_date,
    cast(null as {{ dbt.type_string() }}) as input_fingerprint,
    cast(null as {{ dbt.type_timestamp() }}) as built_at
where 1 = 0
