{#- Every file dbt reads of `raw_tables` ([(table name, source relation), ...]) was checked by the
    landing guard and has the rows the ledger recorded: one row per file that disagrees, naming
    it. One singular test per group of sources a staging model reads together, so a failure skips
    exactly the models downstream of those sources (dbt adds a test's skip edge to a model only
    when every source the test reads is upstream of it). -#}

{% macro clv_raw_files_vs_ledger(raw_tables) %}

with

ledger as (

    select
        table_name,
        ingest_date,
        file_name,
        rows_landed
    from {{ ref('stg_landing__landed_files') }}
    -- An empty file (an import with no events writes one, so readers see the schema) has no
    -- row for dbt to group by file.
    where
        status = 'accepted' and rows_landed > 0
        and table_name in ({% for name, _ in raw_tables %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})

),

files_read as (

    -- Grouped by the path first: the name is taken once per file, not once per row.
    {%- for name, relation in raw_tables %}
    select
        '{{ name }}' as table_name,
        cast(ingest_date as date) as ingest_date,
        {{ landed_file_path() }} as file_path,
        count(*) as rows_read
    from {{ relation }}
    group by 1, 2, 3
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

read_by_dbt as (

    select
        table_name,
        ingest_date,
        {{ file_name_of('file_path') }} as file_name,
        rows_read
    from files_read

),

final as (

    select
        coalesce(read_by_dbt.table_name, ledger.table_name) as table_name,
        coalesce(read_by_dbt.ingest_date, ledger.ingest_date) as ingest_date,
        coalesce(read_by_dbt.file_name, ledger.file_name) as file_name,
        read_by_dbt.rows_read,
        ledger.rows_landed,
        case
            when ledger.file_name is null then 'not in the landing ledger: run clv-jobs check-landing'
            when read_by_dbt.file_name is null then 'in the ledger but not in the lake: run clv-jobs check-landing'
            else 'rows differ from the ledger (changed after the check): run clv-jobs check-landing'
        end as problem
    from read_by_dbt
    full outer join ledger
        on
            read_by_dbt.table_name = ledger.table_name
            and read_by_dbt.ingest_date = ledger.ingest_date
            and read_by_dbt.file_name = ledger.file_name
    where
        ledger.file_name is null
        or read_by_dbt.file_name is null
        or read_by_dbt.rows_read != ledger.rows_landed

)

select * from final

{% endmacro %}
