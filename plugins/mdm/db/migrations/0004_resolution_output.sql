-- The resolution output the marts read: every source record ever seen -> its entity id.
-- Entity ids are ours and stable: a record keeps its id across runs; new ids come from
-- the sequences. Producers: mdm.resolve (deterministic keys now, Splink later).
create sequence if not exists resolve.person_id_seq;
create sequence if not exists resolve.legal_person_id_seq;

create table if not exists resolve.person_record (
    dataset            text        not null,
    record_key         text        not null,
    person_id          text        not null,
    match_method       text        not null,  -- id_number | singleton | splink | steward
    match_key          text,                  -- the value that linked it (e.g. the ID number)
    match_probability  double precision,
    first_seen_at      timestamptz not null default now(),
    resolved_at        timestamptz not null default now(),
    run_id             text,
    primary key (dataset, record_key)
);
create index if not exists person_record_person on resolve.person_record (person_id);
create index if not exists person_record_key on resolve.person_record (match_key);
comment on table resolve.person_record is
    'Person source record (dataset, record key with #ROLE) -> person_id: the resolution output.';

create table if not exists resolve.legal_person_record (
    dataset            text        not null,
    record_key         text        not null,
    legal_person_id    text        not null,
    match_method       text        not null,  -- uscc | organization_code | registration_number | singleton | splink | steward
    match_key          text,
    match_probability  double precision,
    first_seen_at      timestamptz not null default now(),
    resolved_at        timestamptz not null default now(),
    run_id             text,
    primary key (dataset, record_key)
);
create index if not exists legal_person_record_entity on resolve.legal_person_record (legal_person_id);
create index if not exists legal_person_record_key on resolve.legal_person_record (match_key);
comment on table resolve.legal_person_record is
    'Organisation source record (dataset, record key) -> legal_person_id: the resolution output.';
