-- Every change of an entity id: new, linked (a record moved into an entity), retired.
create table if not exists resolve.entity_event (
    event_id     bigint generated always as identity primary key,
    entity_kind  text        not null check (entity_kind in ('person', 'legal_person')),
    event        text        not null check (event in ('linked', 'retired', 'split', 'steward')),
    entity_id    text        not null,   -- the entity that changed
    into_id      text,                   -- linked/retired: the entity that absorbed it
    dataset      text,
    record_key   text,
    evidence     jsonb       not null default '{}'::jsonb,
    run_id       text,
    occurred_at  timestamptz not null default now()
);
create index if not exists entity_event_entity on resolve.entity_event (entity_id);
comment on table resolve.entity_event is
    'Entity id history: records linked by probabilistic matching, ids retired by a merge, with evidence.';
