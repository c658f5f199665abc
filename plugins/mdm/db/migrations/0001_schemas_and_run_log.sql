-- The layers of the warehouse (see docs/architecture.md) and the run log that
-- every pipeline step writes, so each table can be traced to a run.
create schema if not exists raw;
create schema if not exists ops;
create schema if not exists quarantine;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists resolve;
create schema if not exists mdm;
create schema if not exists analyst;
create schema if not exists quality;

-- One row per (run, step). Steps upsert their row, so a rerun of the same
-- run id overwrites instead of appending.
create table if not exists ops.run_log (
    run_id        text        not null,
    step          text        not null,
    status        text        not null check (status in ('running', 'success', 'failed')),
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    rows_affected bigint,
    detail        jsonb       not null default '{}'::jsonb,
    primary key (run_id, step)
);
comment on table ops.run_log is 'One row per pipeline run and step: status, timings, row counts, details.';
