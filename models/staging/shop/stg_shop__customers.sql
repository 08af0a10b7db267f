-- CRM change log, PII replaced by keyed hashes; names are dropped (no use survives hashing).

with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        -- ids
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,

        -- strings
        {{ hash_pii('email') }} as email_hash,
        {{ hash_pii('phone') }} as phone_hash,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(country, 'unknown') as country,
        coalesce(loyalty_status, 'unknown') as loyalty_status,

        -- dates and timestamps
        cast(signup_date as date) as signup_date,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at

    from source

),

deduplicated as (

    -- Rule duplicate_crm_versions: one version per customer and updated_at (counted).
    select
        *,
        row_number() over (
            partition by customer_id, updated_at
            order by loyalty_status, acquisition_channel, country
        ) as version_rank
    from renamed

),

final as (

    select
        customer_id,
        email_hash,
        phone_hash,
        acquisition_channel,
        country,
        loyalty_status,
        signup_date,
        updated_at
    from deduplicated
    where version_rank = 1

)

select * from final
