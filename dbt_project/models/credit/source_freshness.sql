-- How old each source of the credit profile is: the extract time of its last loaded delivery
-- (a front-end pull: the newest GXSJ it stored, the last time the department changed the
-- table; a pull finds a table as old as its newest change, not as new as the pull), against
-- the cycle the department promised in the resource catalogue. A source past its cycle is
-- stale: the profile flags the facts it feeds.
with delivered as (
    select dataset, max(coalesce(extract_time, newest_change_at, finished_at)) as last_delivery_at
    from {{ ref('stg_ops__delivery') }}
    where status in ('loaded', 'partially_quarantined')
    group by dataset
)

select
    catalogue.dataset::text as dataset,
    catalogue.cycle::text as cycle,
    catalogue.promised_days::int as promised_days,
    delivered.last_delivery_at::timestamptz as last_delivery_at,
    (delivered.last_delivery_at at time zone 'Asia/Shanghai')::date as as_of_date,
    (extract(epoch from {{ credit_as_of() }} - delivered.last_delivery_at) / 86400)::numeric(10, 1) as age_days,
    (delivered.last_delivery_at is null
     or {{ credit_as_of() }} - delivered.last_delivery_at > make_interval(days => catalogue.promised_days))
        as is_stale,
    {{ credit_as_of() }}::timestamptz as checked_at
from {{ ref('dataset_catalogue') }} as catalogue
left join delivered using (dataset)
where catalogue.dataset in ('scjgj_qydj', 'bb_sydwdj', 'mzt_shzz', 'swj_dwnsr', 'rst_cbry',
                            'gjj_dwjc', 'sdq_jfxx', 'xyb_xzcf', 'fy_sxbzxr', 'xyd_sq')
