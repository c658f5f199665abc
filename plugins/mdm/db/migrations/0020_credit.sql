-- 信易贷 (issue 22, ADR 0019): schema credit (the profile and evaluation are dbt models), the
-- banks registered as consumers, and the monthly results pushed to the financing platform.
create schema if not exists credit;

-- A bank reading credit profiles: its consumer name (role mdm_share_<consumer>, view
-- share.<consumer>__credit_profile) and the credit code its authorisations (xyd_sq YHDM) name.
create table if not exists credit.bank (
    consumer       text primary key check (consumer ~ '^[a-z][a-z0-9_]{0,40}$'),
    bank_uscc      text not null unique,
    bank_name      text not null,
    registered_by  text not null default session_user,
    registered_at  timestamptz not null default now()
);
comment on table credit.bank is
    'Banks registered for the credit profile: consumer name -> the credit code authorisations name.';

-- What each monthly push gave the financing platform: the evaluation of the month, kept.
create table if not exists credit.monthly_result (
    month            date not null,  -- first day of the month pushed
    legal_person_id  text not null,
    uscc             text,
    name             text,
    score            integer not null,
    grade            text not null,
    rules_version    text not null,
    as_of_date       date not null,
    stale_sources    text[] not null default '{}',
    primary key (month, legal_person_id)
);
comment on table credit.monthly_result is
    'Monthly credit evaluations pushed to the financing-service platform (one row per legal person).';

create table if not exists credit.monthly_push (
    month       date primary key,
    rows        bigint not null,
    file        text not null,
    sha256      text not null,
    run_id      text,
    pushed_at   timestamptz not null default now()
);
comment on table credit.monthly_push is 'Each monthly push: rows, the file dropped in the outbox, its checksum.';
