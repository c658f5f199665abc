-- Pipeline steps with their duration: what ran, when, how long, how it ended.
with source as (
    select * from {{ source('ops', 'run_log') }}
)

select
    run_id || '/' || step as run_step_key,
    run_id,
    step,
    status,
    started_at,
    finished_at,
    extract(epoch from finished_at - started_at)::numeric(12, 3) as duration_seconds,
    rows_affected,
    detail
from source
