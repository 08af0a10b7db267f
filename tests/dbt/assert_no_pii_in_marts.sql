-- No mart holds email, name or phone (DESIGN §9): no column is named like one, and no string
-- value in dim_customers looks like an email address or a phone number.

with

pii_columns as (

    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where
        lower(table_schema) in ('marts', 'quality')
        and (
            lower(column_name) like '%email%'
            or lower(column_name) like '%phone%'
            or lower(column_name) in ('first_name', 'last_name', 'name', 'full_name')
        )

),

pii_values as (

    select
        'marts' as table_schema,
        'dim_customers' as table_name,
        customer_id as column_name
    from {{ ref('dim_customers') }}
    where
        customer_id like '%@%'
        or country like '%@%'
        or acquisition_channel like '%@%'
        or loyalty_status like '%@%'
        or customer_id like '+%'

)

select * from pii_columns
union all
select * from pii_values
