-- Every order line, CRM and clickstream file dbt reads was checked by the landing guard and has
-- the rows the ledger recorded: a file landed after `clv-jobs check-landing` ran, or changed
-- since, fails the build here and skips the staging models that read it.
-- Returns one row per file that disagrees, naming it.

{{ clv_raw_files_vs_ledger([
    ('transactions', source('shop', 'transactions')),
    ('customers', source('shop', 'customers')),
    ('events', source('web', 'events')),
]) }}
