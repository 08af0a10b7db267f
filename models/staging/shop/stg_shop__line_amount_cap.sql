{{ config(materialized='table') }}
-- depends_on: {{ ref('rpt_landing_days') }}
-- (Gated like stg_shop__transactions: a day that fails its landing limits moves no cap.)
-- One row: the outlier cap on order line amounts and the end of the window it is taken over.
-- A table of its own so that the nightly build of stg_shop__transactions sees when the cap moved
-- and rewrites every line (ADR 0018).
-- The percentile depends only on the multiset of amounts in the window, so the row also keeps a
-- fingerprint of it (a sum of row hashes, as ADR 0017's) and of the percentile var: a build whose
-- fingerprint and window end match the previous row keeps that row instead of taking the
-- percentile over every line again (on a normal night the new lines fall after the window end).

{%- set percentile = var('clv_outlier_percentile') %}

{%- set window_inputs -%}

lines as (

    select * from {{ ref('stg_shop__transaction_lines') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

converted as (

    select
        lines.invoice_date,
        lines.ingest_date,
        {{ line_amount_usd('lines.quantity', 'lines.unit_price_local', 'currency_rates.usd_per_unit') }} as line_amount_usd
    from lines
    inner join currency_rates
        on lines.currency_code = currency_rates.currency_code
    where {{ is_published_line('lines') }}

),

by_invoice_date as (

    -- one pass over the lines: the bounds of the window and the fingerprint of each day's amounts
    select
        invoice_date,
        max(ingest_date) as max_ingest_date,
        {{ hash_sum('case when line_amount_usd > 0 then ' ~ row_hash(['line_amount_usd']) ~ ' end') }}
            as amounts_hash
    from converted
    group by invoice_date

),

cap_window as (

    select
        {{ default_test_as_of_date(data_end_date('least(max(invoice_date), max(max_ingest_date))')) }}
            as cap_window_end_date
    from by_invoice_date

),

window_fingerprint as (

    select
        max(cap_window.cap_window_end_date) as cap_window_end_date,
        '{{ percentile }}/' || cast({{ hash_sum('by_invoice_date.amounts_hash') }} as {{ dbt.type_string() }})
            as cap_inputs_fingerprint
    from cap_window
    left join by_invoice_date
        on by_invoice_date.invoice_date <= cap_window.cap_window_end_date

)

{%- endset %}

{#- A unit test has no relation of its own (`this`); a table from before the fingerprint has no
    fingerprint column: both compute the cap. -#}
{%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) if execute and this is not none else none %}
{%- set keep_previous = false %}
{%- if previous is not none and not flags.FULL_REFRESH
    and 'cap_inputs_fingerprint' in adapter.get_columns_in_relation(previous) | map(attribute='name') | map('lower') | list %}
    {%- set unchanged = run_query(
        "with " ~ window_inputs ~ " select count(*) from " ~ previous ~ " as previous"
        ~ " inner join window_fingerprint"
        ~ " on previous.cap_window_end_date = window_fingerprint.cap_window_end_date"
        ~ " and previous.cap_inputs_fingerprint = window_fingerprint.cap_inputs_fingerprint") %}
    {%- set keep_previous = unchanged.columns[0].values()[0] == 1 %}
    {{ log(this.identifier ~ (": no amount in the cap's window changed, the cap is kept" if keep_previous
        else ": the cap's window or its amounts changed, the cap is taken again"), info=true) }}
{%- endif %}

{%- if keep_previous %}

select * from {{ previous }}

{%- else %}

with

{{ window_inputs }},

final as (

    -- Rule outlier_cap: the percentile of positive line amounts up to the end of the training
    -- window (the test as-of date), so no later data shapes the cap. A null percentile var
    -- turns the cap off. percentile_cont returns a float on PostgreSQL: cast back to a decimal,
    -- in cents, so every engine caps at the same amount, then back to the amounts' own type
    -- (DuckDB would otherwise round every amount in stg_shop__transactions to cents).
    select
        {%- if percentile is not none %}
        cast(
            round(
                cast(
                    percentile_cont({{ percentile }}) within group (
                        order by converted.line_amount_usd
                    ) as {{ dbt.type_numeric() }}
                ),
                2
            ) as {{ dbt.type_numeric() }}
        ) as line_amount_cap_usd,
        {%- else %}
        max(cast(null as {{ dbt.type_numeric() }})) as line_amount_cap_usd,
        {%- endif %}
        max(window_fingerprint.cap_window_end_date) as cap_window_end_date,
        max(window_fingerprint.cap_inputs_fingerprint) as cap_inputs_fingerprint
    from window_fingerprint
    left join converted
        on
            converted.line_amount_usd > 0
            and converted.invoice_date <= window_fingerprint.cap_window_end_date

)

select * from final

{%- endif %}
