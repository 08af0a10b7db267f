-- One row per event; one event today and one long ago, for the recency test.
select 1 as event_id, cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as event_at
union all
select 2 as event_id, cast('2000-01-01 00:00:00' as {{ dbt.type_timestamp() }}) as event_at
