-- The correction loop (issue 21, standard 6.1 and 4.19): one request per problem (dataset,
-- record, column, delivered value: never raised twice), its state, and every change of state
-- kept. Written by plugins/mdm/corrections.py (DAG mdm_corrections, mdm correction report).
create schema if not exists correction;

create table if not exists correction.request (
    request_id       text        primary key,  -- JCBH, stable across re-sends
    dataset          text        not null,
    record_key       text        not null,     -- as delivered, with #ROLE where a row holds several
    column_name      text        not null,     -- as delivered (standard's spelling)
    delivered_value  text        not null,     -- '' when the value is missing
    problem          text        not null,
    request_type     text        not null,     -- WTLX of 6.1
    evidence         text,
    suggested_value  text,
    department       text        not null,
    origin           text        not null default 'platform'
        check (origin in ('platform', 'user', 'steward')),
    reported_by      text        not null default current_user,
    state            text        not null
        check (state in ('open', 'reported', 'answered', 'confirmed', 'rejected', 'reopened')),
    raised_on        date        not null,     -- TCRQ: the platform's business date
    raised_at        timestamptz not null default now(),
    sent_in          text,                     -- the outbox delivery that last carried it
    updated_at       timestamptz not null default now(),
    unique (dataset, record_key, column_name, delivered_value)
);
create index if not exists request_state on correction.request (state, department);
comment on table correction.request is
    'Correction requests (纠错): one per problem (dataset, record, column, delivered value), with its current state.';

create sequence if not exists correction.request_number;

create table if not exists correction.request_event (
    event_id         bigint      generated always as identity primary key,
    request_id       text        not null references correction.request (request_id),
    state_from       text,
    state_to         text        not null,
    reason           text        not null,
    answer_sequence  int,                      -- FKXH of the jcfk answer applied
    delivery_id      text,                     -- the delivery (inbound or outbox) it came with
    actor            text        not null default current_user,
    happened_at      timestamptz not null default now(),
    detail           jsonb       not null default '{}'
);
create unique index if not exists request_event_answer
    on correction.request_event (request_id, answer_sequence) where answer_sequence is not null;
create index if not exists request_event_request on correction.request_event (request_id);
comment on table correction.request_event is
    'Every change of a correction request''s state (found, sent, answered, confirmed, rejected, reopened), never updated.';

-- One place to answer "what was wrong with this record and what happened": the requests'
-- history and the stewards' link decisions naming the record.
create or replace view correction.record_history as
select r.dataset, r.record_key, e.happened_at, 'request' as kind, r.request_id as ref,
       r.column_name, coalesce(e.state_from, '') || '->' || e.state_to as what, e.reason,
       e.actor
from correction.request_event e
join correction.request r using (request_id)
union all
select d.dataset_a, d.record_key_a, d.decided_at, 'steward', d.decision_id::text, null,
       d.decision || case when d.withdrawn_at is not null then ' (withdrawn)' else '' end,
       d.reason || ' (with ' || d.dataset_b || '/' || d.record_key_b || ')', d.decided_by
from resolve.steward_decision d
union all
select d.dataset_b, d.record_key_b, d.decided_at, 'steward', d.decision_id::text, null,
       d.decision || case when d.withdrawn_at is not null then ' (withdrawn)' else '' end,
       d.reason || ' (with ' || d.dataset_a || '/' || d.record_key_a || ')', d.decided_by
from resolve.steward_decision d;
