-- One row per customer assigned in an experiment: its group, whether it was in the audience,
-- what the campaign's messages did (from the CRM's campaign events) and what it bought in the
-- experiment's window [starts_on, starts_on + min_days) (attributed from the order lines).
-- Revenue is net of returns, floored at zero per customer.

with

experiments as (

    select * from {{ ref('stg_ml__experiments') }}

),

assignments as (

    select * from {{ ref('stg_ml__experiment_assignments') }}

),

campaign_events as (

    select * from {{ ref('stg_crm__campaign_events') }}

),

customer_days as (

    select * from {{ ref('int_customer_days') }}

),

data_end as (

    select max(activity_date) as last_activity_date from customer_days

),

messages as (

    select
        experiments.experiment_id,
        campaign_events.customer_id,
        max(case when campaign_events.campaign_event = 'sent' then 1 else 0 end) = 1 as is_sent,
        max(case when campaign_events.campaign_event = 'opened' then 1 else 0 end) = 1 as is_opened,
        max(case when campaign_events.campaign_event = 'clicked' then 1 else 0 end) = 1 as is_clicked,
        max(case when campaign_events.campaign_event = 'unsubscribed' then 1 else 0 end) = 1
            as is_unsubscribed
    from campaign_events
    inner join experiments
        on campaign_events.campaign_id = experiments.campaign_id
    group by
        experiments.experiment_id,
        campaign_events.customer_id

),

purchases as (

    select
        assignments.experiment_id,
        assignments.customer_id,
        sum(customer_days.invoice_count) as orders,
        sum(customer_days.net_revenue_usd) as net_revenue_usd
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    inner join customer_days
        on
            assignments.customer_id = customer_days.customer_id
            and customer_days.activity_date >= experiments.starts_on
            and customer_days.activity_date
            < {{ dbt.dateadd('day', 'experiments.min_days', 'experiments.starts_on') }}
    group by
        assignments.experiment_id,
        assignments.customer_id

),

final as (

    select
        assignments.experiment_id,
        assignments.customer_id,
        assignments.group_name,
        assignments.is_targeted,
        assignments.chosen_by,
        coalesce(messages.is_sent, false) as is_sent,
        coalesce(messages.is_opened, false) as is_opened,
        coalesce(messages.is_clicked, false) as is_clicked,
        coalesce(messages.is_unsubscribed, false) as is_unsubscribed,
        coalesce(purchases.orders, 0) as orders,
        greatest(coalesce(purchases.net_revenue_usd, 0), 0) as revenue_usd,
        greatest(
            least(
                experiments.min_days,
                {{ dbt.datediff('experiments.starts_on', 'data_end.last_activity_date', 'day') }} + 1
            ),
            0
        ) as days_observed
    from assignments
    inner join experiments
        on assignments.experiment_id = experiments.experiment_id
    cross join data_end
    left join messages
        on
            assignments.experiment_id = messages.experiment_id
            and assignments.customer_id = messages.customer_id
    left join purchases
        on
            assignments.experiment_id = purchases.experiment_id
            and assignments.customer_id = purchases.customer_id

)

select * from final
