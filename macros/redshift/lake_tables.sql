{#- Redshift Spectrum: the lake's tables as external tables on the Glue catalog (DESIGN §2).

    Each macro returns SQL text; the run-operations below execute it on Redshift and only print
    it on any other target, so the statements are reviewed (and tested) without AWS.
    Column types follow the raw contract (docs/data-contracts.md); the ML tables come from the ML
    landing contract (clv_ml_lake_tables, rendered from python_jobs/clv_jobs/ml_contracts.py). -#}

{% macro clv_lake_tables() -%}
    {{ return({
        'raw': {
            'transactions': {'partition': ('ingest_date', 'date'), 'columns': [
                ('InvoiceNo', 'varchar(32)'), ('StockCode', 'varchar(64)'), ('Description', 'varchar(512)'),
                ('Quantity', 'bigint'), ('InvoiceDate', 'timestamp'), ('UnitPrice', 'decimal(12,2)'),
                ('CustomerID', 'varchar(64)'), ('Country', 'varchar(64)'), ('Currency', 'char(3)')]},
            'customers': {'partition': ('ingest_date', 'date'), 'columns': [
                ('customer_id', 'varchar(64)'), ('email', 'varchar(256)'), ('first_name', 'varchar(128)'),
                ('last_name', 'varchar(128)'), ('phone', 'varchar(64)'), ('signup_date', 'date'),
                ('acquisition_channel', 'varchar(64)'), ('country', 'varchar(64)'),
                ('loyalty_status', 'varchar(32)'), ('updated_at', 'timestamp')]},
            'events': {'partition': ('ingest_date', 'date'), 'columns': [
                ('event_id', 'bigint'), ('session_id', 'bigint'), ('customer_id', 'varchar(64)'),
                ('event_type', 'varchar(32)'), ('event_timestamp', 'timestamp')]},
            'campaign_events': {'partition': ('ingest_date', 'date'), 'columns': [
                ('campaign_id', 'varchar(128)'), ('customer_id', 'varchar(64)'), ('event', 'varchar(16)'),
                ('event_at', 'timestamp')]},
            'landed_files': {'partition': none, 'location': 'landing/files', 'columns': [
                ('file_path', 'varchar(1024)'), ('table_name', 'varchar(32)'), ('file_name', 'varchar(256)'),
                ('content_sha256', 'char(64)'), ('status', 'varchar(16)'), ('rule_name', 'varchar(64)'),
                ('message', 'varchar(4096)'), ('quarantine_path', 'varchar(1024)'), ('rows_landed', 'bigint'),
                ('rows_erased', 'bigint'), ('file_bytes', 'bigint'), ('mtime_ns', 'bigint'),
                ('is_late', 'boolean'), ('is_changed', 'boolean'), ('ingest_date', 'date'),
                ('min_event_at', 'timestamp'), ('max_event_at', 'timestamp'), ('checked_at', 'timestamp')]},
        },
        'ml': clv_ml_lake_tables(),
    }) }}
{%- endmacro %}


{% macro clv_external_schema_sql(schema, glue_database, iam_role) -%}
create external schema if not exists {{ schema }}
from data catalog database '{{ glue_database }}'
iam_role '{{ iam_role }}'
{%- endmacro %}


{% macro clv_external_table_sql(schema, area, table, lake_uri) -%}
    {%- set spec = clv_lake_tables()[area][table] -%}
create external table {{ schema }}.{{ table }} (
    {%- for name, type in spec['columns'] %}
    "{{ name | lower }}" {{ type }}{{ "," if not loop.last }}
    {%- endfor %}
)
{%- if spec['partition'] %}
partitioned by ({{ spec['partition'][0] }} {{ spec['partition'][1] }})
{%- endif %}
stored as parquet
location '{{ lake_uri.rstrip('/') }}/{{ spec.get('location', area ~ '/' ~ table) }}/'
{%- endmacro %}


{% macro clv_add_partition_sql(schema, area, table, value, lake_uri) -%}
    {%- set key = clv_lake_tables()[area][table]['partition'][0] -%}
alter table {{ schema }}.{{ table }} add if not exists
partition ({{ key }} = '{{ value }}')
location '{{ lake_uri.rstrip('/') }}/{{ area }}/{{ table }}/{{ key }}={{ value }}/'
{%- endmacro %}


{#- Runs each statement on Redshift; elsewhere prints it (a dry run). -#}
{% macro clv_run_or_print(statements) %}
    {%- for statement in statements %}
        {%- if target.type == 'redshift' %}
            {%- do run_query(statement) %}
        {%- endif %}
        {{ print(statement ~ ';') }}
    {%- endfor %}
{% endmacro %}


{#- dbt run-operation create_lake_external_tables --args '{lake_uri: s3://bucket, glue_database: clv_lake, iam_role: arn:...}'
    External schemas `raw` and `ml_landing` (the vars clv_raw_schema, clv_ml_schema) and every table. -#}
{% macro create_lake_external_tables(lake_uri, glue_database, iam_role) %}
    {%- set statements = [] %}
    {%- for area, schema in [('raw', var('clv_raw_schema')), ('ml', var('clv_ml_schema'))] %}
        {%- do statements.append(clv_external_schema_sql(schema, glue_database ~ '_' ~ area, iam_role)) %}
        {%- for table in clv_lake_tables()[area] %}
            {%- do statements.append('drop table if exists ' ~ schema ~ '.' ~ table) %}
            {%- do statements.append(clv_external_table_sql(schema, area, table, lake_uri)) %}
        {%- endfor %}
    {%- endfor %}
    {{ clv_run_or_print(statements) }}
{% endmacro %}


{#- dbt run-operation register_lake_partitions --args '{lake_uri: s3://bucket, partitions: {raw/transactions: [2024-12-31], ml/scores: [2024-12-31]}}'
    `clv-jobs register-partitions` lists the lake and calls this with what it found. -#}
{% macro register_lake_partitions(lake_uri, partitions) %}
    {%- set schemas = {'raw': var('clv_raw_schema'), 'ml': var('clv_ml_schema')} %}
    {%- set statements = [] %}
    {%- for path, values in partitions.items() %}
        {%- set area, table = path.split('/') %}
        {%- if area not in schemas or table not in clv_lake_tables()[area] %}
            {{ exceptions.raise_compiler_error("register_lake_partitions: unknown lake table " ~ path) }}
        {%- endif %}
        {%- for value in values %}
            {%- do statements.append(clv_add_partition_sql(schemas[area], area, table, value, lake_uri)) %}
        {%- endfor %}
    {%- endfor %}
    {{ clv_run_or_print(statements) }}
{% endmacro %}
