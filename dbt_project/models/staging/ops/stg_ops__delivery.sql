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
    -- a front-end pull: the newest GXSJ it stored (Beijing time), how current the source's data is
    high_water_mark at time zone 'Asia/Shanghai' as newest_change_at,
    finished_at
from {{ source('ops', 'delivery') }}
