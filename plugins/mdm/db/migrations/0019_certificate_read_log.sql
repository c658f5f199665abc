-- Who read a holder's certificates (issue 20, ADR 0018): `mdm certificates --holder` (亮证,
-- a citizen or enterprise showing its certificates at a counter) writes one row per lookup in
-- the transaction that reads them, before anything is shown: no log, no list. Append-only
-- like the share grants (ADR 0012); owned by mdm_access_owner (mdm.access.sharing).
create table if not exists access.certificate_read_log (
    read_id      bigint generated always as identity primary key,
    db_user      text        not null default session_user,
    asked_by     text        not null,  -- who asked: the clerk, office or application
    purpose      text,
    query_kind   text        not null check (query_kind in
                     ('person_id', 'legal_person_id', 'id_number', 'credit_code', 'unknown')),
    holder_kind  text,                  -- person or legal_person; empty when none was found
    holder_id    text,                  -- the person_id or legal_person_id (never the ID number)
    row_count    integer     not null,
    read_at      timestamptz not null default clock_timestamp()
);
comment on table access.certificate_read_log is
    'Every lookup of a holder''s certificates (mdm certificates --holder): who, for whom, how many.';

create or replace function access.certificate_read_log_guard() returns trigger
language plpgsql as $$
begin
    raise exception 'access.certificate_read_log keeps every read: rows are never changed or deleted';
end
$$;
drop trigger if exists certificate_read_log_append_only on access.certificate_read_log;
create trigger certificate_read_log_append_only before update or delete on access.certificate_read_log
    for each row execute function access.certificate_read_log_guard();
