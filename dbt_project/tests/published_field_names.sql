-- The interface standard's field-naming rule (at most 30 characters: a letter, then letters,
-- digits and _; no Chinese) applied to what the platform publishes: every column of the
-- repositories (mdm), the analysts' views (analyst), the scorecard (quality), the credit
-- profiles (credit) and the correction requests (correction). Runs with the scorecard.
-- depends_on: {{ ref('quality_dataset_scorecard') }}
select table_schema, table_name, column_name
from information_schema.columns
where table_schema in ('mdm', 'analyst', 'quality', 'credit', 'correction')
  and column_name !~ '^[A-Za-z][A-Za-z0-9_]{0,29}$'
