{#- Staging that appends by landed file (ADR 0018). stg_shop__transaction_lines keeps, on each
    line, the landed file and the ledger's content hash of the version it came from; a nightly
    build reads the files it has not staged and the ones whose content changed since (a restated
    or erased file keeps its name), and rebuilds every line of the customers those files touch:
    its rules (exact duplicates across files, unknown customers) look across files, but never
    across customers. stg_web__events keeps the same two columns; no rule looks across events, so
    it only appends the files read, after deleting a restated file's previous rows. -#}

{#- The config of a by-file staging model reading source `source_name`.`table_name` (the ledger's
    table name too). `by_customer`: delete+insert on customer_id (rules look across a customer's
    files); otherwise the re-read files' rows are deleted by the pre-hook and the new ones appended. -#}
{% macro landed_file_staging_config(source_name, table_name, by_customer) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert' if by_customer else 'append',
        'unique_key': 'customer_id' if by_customer else none,
        'on_schema_change': 'fail',
        'pre_hook': "{{ clear_landed_files(source('" ~ source_name ~ "', '" ~ table_name ~ "'), '"
            ~ table_name ~ "', guest_rows_only=" ~ by_customer ~ ") }}",
        'dist': 'customer_id' if by_customer else 'even',
        'sort': ['ingest_date'],
    }) }}
{%- endmacro %}

{#- The landing ledger's accepted files of `table_name`, with the content hash of each version. -#}
{% macro accepted_landed_files(table_name) -%}
    select ingest_date, file_name, content_sha256
    from {{ ref('stg_landing__landed_files') }}
    where table_name = '{{ table_name }}' and status = 'accepted'
{%- endmacro %}

{#- What the incremental build of `this` should read from `source_relation`: none for every
    file (a full build, or a staged file is gone from the lake, which only a full rebuild
    undoes), else the files to (re)stage, a list of {path, ingest_date, file_name}. -#}
{% macro landed_files_to_stage(source_relation, table_name, log_summary=false) %}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with

        staged as (
            select
                ingest_date,
                source_file_name as file_name,
                max(source_file_sha256) as content_sha256,
                count(*) as rows_staged
            from {{ this }}
            group by 1, 2
        ),

        landed_paths as (
            select cast(ingest_date as date) as ingest_date, {{ landed_file_path() }} as file_path, count(*) as rows_landed
            from {{ source_relation }}
            group by 1, 2
        ),

        landed as (
            select
                landed_paths.ingest_date,
                landed_paths.file_path,
                {{ file_name_of('landed_paths.file_path') }} as file_name,
                landed_paths.rows_landed
            from landed_paths
        ),

        ledger as (
            {{ accepted_landed_files(table_name) }}
        )

        select
            landed.file_path,
            cast(coalesce(landed.ingest_date, staged.ingest_date) as {{ dbt.type_string() }}) as ingest_date,
            coalesce(landed.file_name, staged.file_name) as file_name,
            case
                when landed.file_name is null then 'vanished'
                when staged.file_name is null then 'new'
                when
                    staged.rows_staged != landed.rows_landed
                    or coalesce(staged.content_sha256, '') != coalesce(ledger.content_sha256, '')
                    then 'restated'
                else 'staged'
            end as file_status
        from landed
        full outer join staged
            on landed.ingest_date = staged.ingest_date and landed.file_name = staged.file_name
        left join ledger
            on landed.ingest_date = ledger.ingest_date and landed.file_name = ledger.file_name
        order by 2, 3
    {%- endset -%}
    {%- set files = [] -%}
    {%- set rows = run_query(query).rows -%}
    {%- for row in rows -%}
        {%- if row['file_status'] == 'vanished' -%}
            {{ log(this.identifier ~ ": landed file " ~ row['file_name'] ~ " (" ~ row['ingest_date']
                ~ ") is gone from the lake since it was staged; rebuilding every row", info=log_summary) }}
            {{ return(none) }}
        {%- elif row['file_status'] in ['new', 'restated'] -%}
            {%- do files.append({'path': row['file_path'], 'ingest_date': row['ingest_date'], 'file_name': row['file_name']}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ log(this.identifier ~ ": staging " ~ files | length ~ " new or changed landed files of " ~ rows | length, info=log_summary) }}
    {{ return(files) }}
{% endmacro %}

{#- A SQL predicate on a source row: it comes from one of `files` (always true when none). -#}
{% macro landed_file_in(files) -%}
    {%- if files is none -%}
        1 = 1
    {%- elif files | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ landed_file_path() }} in ({% for f in files %}'{{ f.path }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Before an incremental build of a by-file staging model: a full rebuild (files is none)
    empties it; otherwise the rows of the files re-read go. With `guest_rows_only` (a model that
    is delete+insert on customer_id) only their guest lines (no customer, so no key) go here; their
    customers' lines go by the key. -#}
{% macro clear_landed_files(source_relation, table_name, guest_rows_only=true) -%}
    {%- if is_incremental() -%}
        {%- set files = landed_files_to_stage(source_relation, table_name) -%}
        {%- if files is none -%}
    delete from {{ this }}
        {%- elif files | length > 0 -%}
    delete from {{ this }}
    where
        {{ 'customer_id is null and' if guest_rows_only }}
        ({% for f in files %}(ingest_date = cast('{{ f.ingest_date }}' as date) and source_file_name = '{{ f.file_name }}'){{ " or " if not loop.last }}{% endfor %})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
