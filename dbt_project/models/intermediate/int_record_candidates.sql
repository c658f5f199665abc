-- The current record state (macros/touched_entities.sql) of the records this build must look
-- at again; int_touched_entities compares it with the previous state, int_record_state
-- replaces their rows with it. A candidate is a record whose observation changed
-- (ops.record_change, written by the observation models: a batch's records, every record of
-- a dataset rebuilt whole), or whose resolution was written since the previous state
-- (resolve.*_record.resolved_at: new records, merges, splits, moves, steward decisions).
-- Every record when the record state starts from nothing. The pre-hook takes the pending
-- changes for this build (int_record_state deletes them once it has taken them in).
{{ config(pre_hook="update {{ source('ops', 'record_change') }} set taken_by = '{{ invocation_id }}'") }}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema,
                                        identifier='int_record_state') %}
{%- if record_state_is_new() %}
{{ entity_record_state() }}
{%- else %}
with change as (
    select dataset, source_key from {{ source('ops', 'record_change') }}
    where taken_by = '{{ invocation_id }}'
),

rebuilt as (
    select distinct dataset from change where source_key is null
),

-- The latest resolution the previous state saw (resolved_at is indexed in both): a write is
-- one transaction, its rows share resolved_at (now()) and became visible together; the daily
-- chain resolves before it builds, so no write older than this was still uncommitted then.
seen as (
    select coalesce(max(resolved_at), '-infinity'::timestamptz) as resolved_at from {{ previous }}
),

candidate as (
    select previous.dataset, previous.record_key
    from {{ previous }} as previous
    join (select distinct dataset, source_key from change where source_key is not null) as changed
        on changed.dataset = previous.dataset and changed.source_key = previous.source_key
    union
    select previous.dataset, previous.record_key
    from {{ previous }} as previous
    where previous.dataset in (select dataset from rebuilt)
    {%- for table in ['person_record', 'legal_person_record'] %}
    union
    select dataset, record_key from {{ source('resolve', table) }}
    where resolved_at > (select resolved_at from seen)
    union
    select dataset, record_key from {{ source('resolve', table) }}
    where dataset in (select dataset from rebuilt)
    {%- endfor %}
)

{{ entity_record_state('candidate') }}
{%- endif %}
