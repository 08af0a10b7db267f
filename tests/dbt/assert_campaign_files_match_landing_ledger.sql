-- The same for the CRM's campaign events (a test of its own: it blocks stg_crm__campaign_events,
-- which reads only this source). Returns one row per file that disagrees, naming it.

{{ clv_raw_files_vs_ledger([('campaign_events', source('crm', 'campaign_events'))]) }}
