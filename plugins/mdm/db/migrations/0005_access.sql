-- Access control bookkeeping (schema access, never granted to analysts or consumers):
-- share grants, the read log of the sharing views, and the pseudonyms analysts join on.
create schema if not exists access;
create schema if not exists share;

create table if not exists access.share_grant (
    grant_id     bigint generated always as identity primary key,
    consumer     text        not null,  -- the consuming department, e.g. 'rst' (role mdm_share_rst)
    dataset      text        not null,  -- natural_person, legal_person, relation
    columns      text[]      not null,
    purpose      text        not null,
    granted_by   text        not null,
    granted_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    revoked_by   text,
    view_name    text        not null   -- share.<consumer>__<dataset>
);
comment on table access.share_grant is
    'Conditional-sharing grants (有条件共享): who gets which columns of what, why and until when.';

create table if not exists access.share_read_log (
    read_id    bigint generated always as identity primary key,
    grant_id   bigint      not null,
    role_name  text        not null,
    view_name  text        not null,
    row_count  bigint      not null,
    read_at    timestamptz not null default now()
);
comment on table access.share_read_log is 'Every read through a sharing view: role, view, time, rows returned.';

create table if not exists access.person_pseudonym (
    person_id  text primary key,
    pseudonym  text not null unique
);
comment on table access.person_pseudonym is
    'Keyed hash (HMAC-SHA256 of the ID number, else the person id) per person; the key is not in the warehouse.';

-- Masking for analysts: keep the division and the check part, hide the birth date and sequence.
create or replace function access.mask_id_number(value text) returns text
language sql immutable parallel safe as $$
    select case when value is null then null
                when length(value) = 18 then substr(value, 1, 6) || '********' || substr(value, 15, 4)
                else repeat('*', greatest(length(value) - 4, 0)) || right(value, 4) end
$$;

create or replace function access.mask_phone(value text) returns text
language sql immutable parallel safe as $$
    select case when value is null then null
                when length(value) = 11 then substr(value, 1, 3) || '****' || substr(value, 8, 4)
                else repeat('*', greatest(length(value) - 4, 0)) || right(value, 4) end
$$;

-- Steward decisions every resolution run honours (must-link / cannot-link between records).
create table if not exists resolve.steward_decision (
    decision_id    bigint generated always as identity primary key,
    decision       text        not null check (decision in ('must_link', 'cannot_link')),
    dataset_a      text        not null,
    record_key_a   text        not null,
    dataset_b      text        not null,
    record_key_b   text        not null,
    reason         text        not null,
    decided_by     text        not null default current_user,
    decided_at     timestamptz not null default now(),
    withdrawn_at   timestamptz
);
comment on table resolve.steward_decision is 'Must-link / cannot-link decisions of data stewards.';
