{{
    config(
        materialized='incremental',
        on_schema_change='fail',
    )
}}
-- One row per as-of date each time a build changes what it knows of that date: first seen,
-- labels matured, or restated (its features, or its already complete labels, changed: a late
-- or changed landing rewrote history). Each row carries the totals before and after, so
-- "which as-of dates moved, and by how much" is a query. Append-only: the history of restatements.

with

features as (

    select
        as_of_date,
        count(*) as feature_rows,
        sum(frequency) as feature_orders,
        sum(net_revenue_to_date_usd) as feature_revenue_usd
    from {{ ref('fct_customer_features') }}
    group by as_of_date

),

labels as (

    select
        as_of_date,
        sum(case when is_label_complete then 1 else 0 end) as complete_label_rows,
        sum(case when is_label_complete then revenue_next_horizon_usd else 0 end) as complete_label_revenue_usd
    from {{ ref('fct_customer_labels') }}
    group by as_of_date

),

current_totals as (

    select
        features.as_of_date,
        cast(features.feature_rows as {{ dbt.type_bigint() }}) as feature_rows,
        cast(features.feature_orders as {{ dbt.type_bigint() }}) as feature_orders,
        cast(features.feature_revenue_usd as {{ dbt.type_numeric() }}) as feature_revenue_usd,
        cast(coalesce(labels.complete_label_rows, 0) as {{ dbt.type_bigint() }}) as complete_label_rows,
        cast(coalesce(labels.complete_label_revenue_usd, 0) as {{ dbt.type_numeric() }}) as complete_label_revenue_usd
    from features
    left join labels
        on features.as_of_date = labels.as_of_date

),

{% if is_incremental() %}
known as (

    select *
    from (
        select
            *,
            row_number() over (partition by as_of_date order by detected_at desc, change_kind) as recency_rank
        from {{ this }}
    ) as ranked
    where recency_rank = 1

),
{% endif %}

compared as (

    select
        current_totals.*,
        {%- if is_incremental() %}
        cast(known.feature_rows as {{ dbt.type_bigint() }}) as previous_feature_rows,
        cast(known.feature_revenue_usd as {{ dbt.type_numeric() }}) as previous_feature_revenue_usd,
        cast(known.complete_label_rows as {{ dbt.type_bigint() }}) as previous_complete_label_rows,
        cast(known.complete_label_revenue_usd as {{ dbt.type_numeric() }}) as previous_complete_label_revenue_usd,
        case
            when known.as_of_date is null then 'first_seen'
            when
                known.feature_rows != current_totals.feature_rows
                or known.feature_orders != current_totals.feature_orders
                or known.feature_revenue_usd != current_totals.feature_revenue_usd
                or (
                    known.complete_label_rows > 0
                    and (
                        known.complete_label_rows != current_totals.complete_label_rows
                        or known.complete_label_revenue_usd != current_totals.complete_label_revenue_usd
                    )
                )
                then 'restated'
            when known.complete_label_rows != current_totals.complete_label_rows then 'labels_matured'
        end as change_kind
        {%- else %}
        cast(null as {{ dbt.type_bigint() }}) as previous_feature_rows,
        cast(null as {{ dbt.type_numeric() }}) as previous_feature_revenue_usd,
        cast(null as {{ dbt.type_bigint() }}) as previous_complete_label_rows,
        cast(null as {{ dbt.type_numeric() }}) as previous_complete_label_revenue_usd,
        cast('first_seen' as {{ dbt.type_string() }}) as change_kind
        {%- endif %}
    from current_totals
    {%- if is_incremental() %}
    left join known
        on current_totals.as_of_date = known.as_of_date
    {%- endif %}

),

final as (

    select
        as_of_date,
        cast(change_kind as {{ dbt.type_string() }}) as change_kind,
        feature_rows,
        previous_feature_rows,
        feature_orders,
        feature_revenue_usd,
        previous_feature_revenue_usd,
        cast(feature_revenue_usd - previous_feature_revenue_usd as {{ dbt.type_numeric() }})
            as feature_revenue_change_usd,
        complete_label_rows,
        previous_complete_label_rows,
        complete_label_revenue_usd,
        previous_complete_label_revenue_usd,
        cast(complete_label_revenue_usd - previous_complete_label_revenue_usd as {{ dbt.type_numeric() }})
            as complete_label_revenue_change_usd,
        {{ run_started_at_sql() }} as detected_at
    from compared
    where change_kind is not null

)

select * from final
