{#- Fails when the newest value of `column_name` is older than `interval` `datepart`s before now
    (or the table has no rows). -#}
{% test expect_row_values_to_have_recent_data(model, column_name, datepart, interval, row_condition=none) %}
with latest as (
    select max(cast({{ column_name }} as {{ dbt.type_timestamp() }})) as latest_value
    from {{ model }}
    {% if row_condition %}where {{ row_condition }}{% endif %}
),

validation_errors as (
    select *
    from latest
    where
        latest_value is null
        or latest_value < cast({{ dbt.dateadd(datepart, -1 * interval, dbt.current_timestamp()) }} as {{ dbt.type_timestamp() }})
)

select * from validation_errors
{% endtest %}
