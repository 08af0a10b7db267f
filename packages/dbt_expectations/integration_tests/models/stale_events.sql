-- One row per event, all of them old: the recency test must fail here.
select 1 as event_id, cast('2000-01-01 00:00:00' as {{ dbt.type_timestamp() }}) as event_at
