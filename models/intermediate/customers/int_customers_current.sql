-- The latest CRM version of each customer: what the nightly snapshot captures.

with

customer_versions as (

    select * from {{ ref('int_customer_versions') }}

),

final as (

    select
        customer_id,
        acquisition_channel,
        country,
        loyalty_status,
        signup_date,
        valid_from as updated_at
    from customer_versions
    where valid_to is null

)

select * from final
