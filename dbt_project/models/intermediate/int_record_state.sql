-- The record state (macros/touched_entities.sql) the repositories were last built from: the
-- next build's int_record_candidates and int_touched_entities compare with it. Incremental:
-- the candidates' rows are replaced by their current state (every row when it starts from
-- nothing), and the record changes they were taken for are deleted. Built after the
-- repositories, so a build that fails before them leaves it (and ops.record_change) as it
-- was and the next build recomputes the same entities again.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['dataset', 'record_key']}, {'columns': ['dataset', 'source_key']},
             {'columns': ['resolved_at']}],
    pre_hook="{{ replace_record_state() }}",
    post_hook="delete from {{ source('ops', 'record_change') }} where taken_by = '{{ invocation_id }}'"
) }}
-- depends_on: {{ ref('int_touched_entities') }}
-- depends_on: {{ ref('natural_person_xref') }}
-- depends_on: {{ ref('legal_person_xref') }}
-- after the incremental expected certificates, which read the changes it deletes
-- depends_on: {{ ref('int_certificate_expected') }}
select kind, dataset, record_key, source_key, entity_id, resolved_at, fingerprint
from {{ ref('int_record_candidates') }}
