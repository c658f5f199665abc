-- Ingestion bookkeeping: the delivery ledger, its event history, front-end
-- watermarks, the stored Great Expectations results, and quarantined rows.

-- One row per delivery (file drop) or pull (front-end database), keyed as the
-- department keys it. The row holds the latest outcome; every attempt, re-send
-- and skip is in ops.delivery_event.
create table if not exists ops.delivery (
    dataset             text        not null,
    delivery_id         text        not null,
    channel             text        not null check (channel in ('file', 'frontend_db')),
    mode                text        check (mode in ('full', 'delta', 'pull')),
    status              text        not null check (status in (
                            'loading', 'loaded', 'partially_quarantined', 'rejected',
                            'blocked', 'skipped', 'unavailable')),
    provider            text,
    extract_time        timestamptz,
    declared_encoding   text,
    manifest_sha256     text,           -- fingerprint of the manifest: a re-send with the same one is a duplicate
    manifest_mtime_ns   bigint,         -- when the manifest was written: tells a re-send from a rescan
    rows_declared       bigint,
    rows_loaded         bigint,
    rows_quarantined    bigint,
    extra_columns       text[]      not null default '{}',
    missing_columns     text[]      not null default '{}',
    out_of_order        boolean     not null default false,  -- arrived after a later delivery was loaded
    error_code          text,
    error               text,
    high_water_mark     timestamp,      -- pulls: the largest GXSJ stored by this pull
    run_id              text,
    attempts            integer     not null default 0,
    first_seen_at       timestamptz not null default now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    primary key (dataset, delivery_id)
);
comment on table ops.delivery is
    'Delivery ledger: one row per department delivery or front-end pull with its outcome and row counts.';

create table if not exists ops.delivery_event (
    event_id     bigint generated always as identity primary key,
    dataset      text        not null,
    delivery_id  text        not null,
    event        text        not null,  -- loaded, partially_quarantined, rejected, blocked, duplicate, conflicting_resend, skipped, unavailable
    detail       jsonb       not null default '{}'::jsonb,
    run_id       text,
    occurred_at  timestamptz not null default now()
);
create index if not exists delivery_event_delivery on ops.delivery_event (dataset, delivery_id);
comment on table ops.delivery_event is 'Every ingestion attempt, duplicate re-send, block and skip, in order.';

create table if not exists ops.frontend_watermark (
    dataset          text primary key,
    high_water_mark  timestamp   not null,
    delivery_id      text        not null,  -- the pull that stored the rows up to the mark
    updated_at       timestamptz not null default now()
);
comment on table ops.frontend_watermark is
    'Per front-end table, the largest GXSJ already stored; advanced in the transaction that stores the rows.';

create table if not exists ops.validation_result (
    dataset          text        not null,
    delivery_id      text        not null,
    suite_name       text        not null,
    success          boolean     not null,
    evaluated        integer     not null,
    failed_critical  integer     not null,
    failed_warning   integer     not null,
    failures         jsonb       not null default '[]'::jsonb,
    result           jsonb       not null,
    validated_at     timestamptz not null default now(),
    primary key (dataset, delivery_id, suite_name)
);
comment on table ops.validation_result is
    'Great Expectations results per delivery: the gate (critical, decides the load) and the profile (warnings, for the scorecard).';

create table if not exists quarantine.delivery_row (
    dataset         text        not null,
    delivery_id     text        not null,
    file            text        not null,
    line            integer     not null,
    reason_code     text        not null,
    reason          text        not null,
    raw_text        text,
    run_id          text,
    quarantined_at  timestamptz not null default now(),
    primary key (dataset, delivery_id, file, line)
);
comment on table quarantine.delivery_row is
    'Delivered rows that could not be loaded: where they were, why, and their raw text.';
