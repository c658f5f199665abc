-- Incremental staging and observations (issue 18, ADR 0004): which deliveries each
-- incremental dbt model has applied. A model's post-hook writes its batch in the transaction
-- that writes its rows, so a failed build marks nothing and a rerun finds nothing new; a
-- delivery loaded again (a new finished_at) is applied again.
create table if not exists ops.model_delivery (
    model        text        not null,  -- the dbt model (relation name)
    dataset      text        not null,
    delivery_id  text        not null,
    finished_at  timestamptz,           -- ops.delivery.finished_at when the model applied it
    applied_at   timestamptz not null default now(),
    primary key (model, dataset, delivery_id)
);
comment on table ops.model_delivery is
    'Per incremental dbt model, the deliveries it has applied (written with its rows).';
