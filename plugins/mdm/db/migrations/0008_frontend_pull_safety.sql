-- Front-end pulls that lose nothing (issue 16): an overlap window, a mark capped at the
-- source's clock, null GXSJ loaded, and a periodic reconciliation of the whole table.

-- What a pull read but did not store, and what it warns about. rows_declared stays
-- rows_loaded + rows_quarantined: the rows a pull read again unchanged are counted apart.
alter table ops.delivery
    add column if not exists rows_unchanged   bigint,  -- pulls: read again (overlap window, null GXSJ, reconciliation), identical to raw, not stored again
    add column if not exists rows_null_gxsj   bigint,  -- pulls: stored rows without a GXSJ
    add column if not exists rows_future_gxsj bigint,  -- pulls: stored rows stamped after the source's clock (the mark is capped)
    add column if not exists rows_vanished    bigint,  -- reconciliation: records gone from the source table, stored as operation D
    add column if not exists reconciled       boolean not null default false,  -- the pull compared the whole source table
    add column if not exists warning          text;    -- what an operator should know about a loaded pull

-- A mark can be unknown (only null-GXSJ rows so far); reconciliation runs on a cadence.
alter table ops.frontend_watermark alter column high_water_mark drop not null;
alter table ops.frontend_watermark
    add column if not exists reconciled_at timestamptz;  -- the last pull that compared the whole source table

comment on table ops.frontend_watermark is
    'Per front-end table: the mark the next pull reads above (minus the overlap window), capped '
    'at the source clock minus a lag; advanced in the transaction that stores the rows. '
    'reconciled_at: the last whole-table comparison of keys and GXSJ.';
