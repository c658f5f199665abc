-- The delivery ledger as staging needs it: which deliveries are in raw, and their mode.
select
    dataset,
    delivery_id,
    mode,
    status,
    rows_declared,
    rows_loaded,
    rows_quarantined,
    out_of_order,
    extract_time,
    finished_at
from {{ source('ops', 'delivery') }}
