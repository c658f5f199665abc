-- Incremental golden records (issue 18, docs/architecture.md "Incremental golden records"):
-- the records whose observations a build changed, so the next repositories build compares
-- only those (and the records resolution wrote since) instead of fingerprinting every record.
-- The observation models' post-hook writes their batch here in the transaction that writes
-- their rows; int_record_candidates marks the rows it takes (taken_by), and int_record_state
-- deletes them once it has taken them into the record state (a failed build deletes none).
create table if not exists ops.record_change (
    change_id    bigint generated always as identity primary key,
    model        text        not null,  -- the observation model that wrote the batch
    dataset      text        not null,
    source_key   text,                  -- the source record key (no #ROLE); null: every
                                        -- record of the dataset (a rebuilt dataset)
    recorded_at  timestamptz not null default now(),
    taken_by     text                   -- the dbt invocation whose record state takes it
);
comment on table ops.record_change is
    'Source records whose observations changed since the record state (int_record_state) last took them.';

-- The records resolution wrote since the last record state: every insert and update of a
-- record's resolution sets resolved_at (now()).
create index if not exists person_record_resolved_at on resolve.person_record (resolved_at);
create index if not exists legal_person_record_resolved_at
    on resolve.legal_person_record (resolved_at);

-- The publish gate's counts of each published table (mdm_expectations.publish: the shares of
-- invalid and shared codes), written by the publish in its transaction: a build that
-- recomputed only some entities is audited from these and the touched entities' rows,
-- not by a pass over every golden record (plugins/mdm/publish.py, build_measures).
create table if not exists ops.publish_measure (
    table_name  text   not null,  -- the published table (mdm.<table_name>)
    measure     text   not null,  -- rows, filled, valid, shared
    value       bigint not null,
    primary key (table_name, measure)
);
comment on table ops.publish_measure is
    'Counts the publish gate reads of each published table, kept by the publish.';
