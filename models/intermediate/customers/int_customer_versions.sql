-- SCD2 of CRM attributes rebuilt from the landed change log: each version is valid from its
-- updated_at until the next one's. This gives history for every past as-of date, which the
-- snapshot (snap_customers) cannot: it only records what it sees on the nights it runs.
-- See docs/decisions/0002-crm-history-from-change-log.md.

with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

final as (

    select
        customer_id,
        acquisition_channel,
        country,
        loyalty_status,
        signup_date,
        updated_at as valid_from,
        lead(updated_at) over (partition by customer_id order by updated_at) as valid_to
    from customers

)

select * from final
