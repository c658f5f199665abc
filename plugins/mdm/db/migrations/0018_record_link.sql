-- Record links (issue 19, ADR 0017): which person or legal person each record of the credit,
-- authorisation and certificate sources describes, and how it was linked. Written by
-- plugins/mdm/resolve/links.py after resolution; a record that moves to another entity is an
-- entity event (resolve.entity_event, 'linked'), as for every resolved record.
create table if not exists resolve.record_link (
    dataset           text        not null,
    record_key        text        not null,
    entity_kind       text        not null check (entity_kind in ('person', 'legal_person')),
    entity_id         text        not null,  -- person_id or legal_person_id
    link_method       text        not null,  -- credit_code, organization_code, id_number, ...
    link_probability  numeric(5, 4) not null,
    run_id            text,
    linked_at         timestamptz not null default now(),
    primary key (dataset, record_key)
);
create index if not exists record_link_entity on resolve.record_link (entity_id);
comment on table resolve.record_link is
    'Credit, authorisation and certificate records -> the person or legal person they describe, with the method.';
