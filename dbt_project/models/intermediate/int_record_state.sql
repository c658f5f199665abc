-- The record state (macros/touched_entities.sql) the repositories were last built from: the
-- next build's int_touched_entities compares with it. Built after the repositories, so a
-- build that fails before them leaves it as it was and the next build recomputes the same
-- entities again.
-- depends_on: {{ ref('int_touched_entities') }}
-- depends_on: {{ ref('natural_person_xref') }}
-- depends_on: {{ ref('legal_person_xref') }}
{{ entity_record_state() }}
