{#- Incremental models keyed by as-of date (ADR 0017). A model built this way:

        {{ config(**as_of_date_model_config('features')) }}
        {%- set build_dates = as_of_dates_to_build('features') %}
        ... where {{ as_of_date_in('as_of_date', build_dates) }}

    rebuilds the as-of dates whose fingerprint (int_as_of_date_fingerprints.<kind>_fingerprint,
    plus an md5 of the model's own code and feature windows) differs from the one it last built
    them from, and deletes the dates that left the spine. A full build (first run or
    --full-refresh) builds every date. Each date's rows come from the same SQL either way, so an
    incremental build equals a full one row for row (tests/integration/test_incremental_builds.py). -#}

{#- The model config: append after the pre-hooks delete the dates to rebuild; a changed column
    list needs --full-refresh (on_schema_change fail). -#}
{% macro as_of_date_model_config(kind) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': as_of_date_pre_hooks(kind),
        'post_hook': as_of_date_post_hook(kind),
        'dist': 'customer_id',
        'sort': ['as_of_date', 'customer_id'],
    }) }}
{%- endmacro %}

{% macro as_of_date_build_fingerprint(kind) -%}
    fingerprints.{{ kind }}_fingerprint || ':{{ local_md5(model.raw_code ~ tojson(var("clv_feature_windows"))) }}'
{%- endmacro %}

{#- The dates without a build from their current inputs: a SQL select. -#}
{% macro as_of_dates_missing_sql(kind) -%}
    select fingerprints.as_of_date, {{ as_of_date_build_fingerprint(kind) }} as input_fingerprint
    from {{ ref('int_as_of_date_fingerprints') }} as fingerprints
    left join {{ ref('int_as_of_date_builds') }} as builds
        on
            builds.model_name = '{{ this.identifier }}'
            and builds.as_of_date = fingerprints.as_of_date
            and builds.input_fingerprint = {{ as_of_date_build_fingerprint(kind) }}
    where builds.as_of_date is null
{%- endmacro %}

{#- The as-of dates to (re)build, as ISO strings; none on a full build (every date). -#}
{% macro as_of_dates_to_build(kind) %}
    {#- A dbt unit test has no relation of its own (`this`): it builds every date. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select as_of_date from (" ~ as_of_dates_missing_sql(kind) ~ ") as missing order by 1") -%}
    {{ return(result.columns[0].values() | map('string') | list) }}
{% endmacro %}

{#- A SQL predicate: `column` is one of `dates` (always true when dates is none). -#}
{% macro as_of_date_in(column, dates) -%}
    {%- if dates is none -%}
        1 = 1
    {%- elif dates | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ column }} in ({% for d in dates %}cast('{{ d }}' as date){{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Before an incremental build: drop the rows and build records of the dates to rebuild and of
    dates no longer on the spine. Before a full build: forget every record of this model. -#}
{% macro as_of_date_pre_hooks(kind) -%}
    {{ return([
        "{{ clear_as_of_date_builds('" ~ kind ~ "') }}",
        "{{ delete_as_of_dates_to_rebuild('" ~ kind ~ "') }}",
    ]) }}
{%- endmacro %}

{% macro delete_as_of_dates_to_rebuild(kind) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where
        {{ as_of_date_in('as_of_date', as_of_dates_to_build(kind)) }}
        or as_of_date not in (select as_of_date from {{ ref('int_as_of_date_fingerprints') }})
    {%- endif -%}
{%- endmacro %}

{% macro clear_as_of_date_builds(kind) -%}
    delete from {{ ref('int_as_of_date_builds') }}
    where
        model_name = '{{ this.identifier }}'
        {%- if is_incremental() %}
        and (
            {{ as_of_date_in('as_of_date', as_of_dates_to_build(kind)) }}
            or as_of_date not in (select as_of_date from {{ ref('int_as_of_date_fingerprints') }})
        )
        {%- endif %}
{%- endmacro %}

{#- After any build: record the dates built (those without a record, after the pre-hooks). -#}
{% macro as_of_date_post_hook(kind) -%}
    {{ return("{{ record_as_of_date_builds('" ~ kind ~ "') }}") }}
{%- endmacro %}

{% macro record_as_of_date_builds(kind) -%}
    insert into {{ ref('int_as_of_date_builds') }} (model_name, as_of_date, input_fingerprint, built_at)
    select
        '{{ this.identifier }}',
        missing.as_of_date,
        missing.input_fingerprint,
        {{ run_started_at_sql() }}
    from ({{ as_of_dates_missing_sql(kind) }}) as missing
{%- endmacro %}

{#- In `dbt build`, the data tests of the per-as-of-date models read only the dates this run
    built (all of them on a full build, none when nothing changed): a date's rows are tested when
    they are written, and rows not rewritten were tested by the build that wrote them. Only tests
    that judge each row (or each customer and date) on its own are narrowed so; a table-wide
    test (row count, mean, distinct count) reads every date. `dbt test` on its own reads every
    date. The project's override of dbt's get_where_subquery, which every generic test's `model`
    goes through; singular tests call as_of_dates_tested() themselves. -#}
{% macro as_of_dates_tested(column='as_of_date') -%}
    {%- if flags.WHICH == 'build' -%}
        {%- set builds = api.Relation.create(
            database=target.database, schema=generate_schema_name('intermediate', none),
            identifier='int_as_of_date_builds') -%}
        {{ column }} in (
            select as_of_date from {{ builds }}
            where built_at = {{ run_started_at_sql() }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set per_date = relation.identifier in ['int_customer_order_features', 'int_customer_web_features',
        'fct_customer_features', 'fct_customer_labels', 'fct_clv_training_examples']
        and (model.test_metadata or {}).get('name') in ['not_null', 'unique', 'accepted_values', 'relationships',
        'expect_column_values_to_be_between', 'expect_compound_columns_to_be_unique',
        'expect_column_values_to_match_regex', 'expect_column_values_to_be_in_set'] -%}
    {%- if where or per_date -%}
        {%- set filtered -%}
            (select * from {{ relation }} where ({{ where or '1 = 1' }}) and {{ as_of_dates_tested() if per_date else '1 = 1' }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
