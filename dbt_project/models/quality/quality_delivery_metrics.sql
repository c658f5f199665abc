-- Per delivery or pull: the facts the scorecard is made of (0..1 each).
-- completeness: the columns the standard defines filled (profile suite, not-null
-- expectations), required ones weighing {{ var('required_column_weight', 2) }}, optional ones 1;
-- coverage: of a delivery split by city (part-<prefecture>.csv), the prefectures it has of
-- those the dataset delivered parts for; names_conforming: the delivered header's field names
-- that follow the naming rule; value normativity: coded columns within their code lists
-- (profile suite, in-set); loadable: the delivery was loaded (availability); timely: it
-- arrived (its manifest was written) within the promised cycle after its extract (timeliness).
with delivery as (
    select
        d.*,
        catalogue.department,
        catalogue.promised_days
    from {{ source('ops', 'delivery') }} as d
    join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = d.dataset
),

profile as (
    select
        result.dataset,
        result.delivery_id,
        sum((case when columns.required then {{ var('required_column_weight', 2) }} else 1 end)
            * (1 - (expectation -> 'result' ->> 'unexpected_percent')::numeric / 100))
            filter (where expectation ->> 'expectation_type' = 'expect_column_values_to_not_be_null')
        / nullif(sum(case when columns.required then {{ var('required_column_weight', 2) }} else 1 end)
            filter (where expectation ->> 'expectation_type' = 'expect_column_values_to_not_be_null'
                    and expectation -> 'result' ->> 'unexpected_percent' is not null), 0)
            as completeness,
        avg(1 - (expectation -> 'result' ->> 'unexpected_percent')::numeric / 100)
            filter (where expectation ->> 'expectation_type' = 'expect_column_values_to_be_in_set')
            as value_normativity
    from {{ source('ops', 'validation_result') }} as result
    cross join lateral jsonb_array_elements(result.result -> 'expectations') as expectation
    left join {{ ref('dataset_columns') }} as columns
        on columns.dataset = result.dataset
        and columns.column_name = expectation -> 'kwargs' ->> 'column'
    where result.suite_name like '%.profile'
    group by result.dataset, result.delivery_id
),

-- what a loaded delivery's last 'loaded' event says about its files and header
loaded_event as (
    select distinct on (dataset, delivery_id) dataset, delivery_id, detail
    from {{ source('ops', 'delivery_event') }}
    where event in ('loaded', 'partially_quarantined')
    order by dataset, delivery_id, event_id desc
),

part as (
    select loaded_event.dataset, loaded_event.delivery_id,
           substring(part.name from '^part-(45[0-9]{2}00)\.') as prefecture
    from loaded_event
    cross join lateral jsonb_array_elements_text(coalesce(loaded_event.detail -> 'files', '[]'))
        as part (name)
),

dataset_prefectures as (
    select dataset, count(distinct prefecture) as prefectures
    from part
    where prefecture is not null
    group by dataset
),

coverage as (
    select part.dataset, part.delivery_id,
           count(distinct part.prefecture)::numeric / dataset_prefectures.prefectures as coverage
    from part
    join dataset_prefectures on dataset_prefectures.dataset = part.dataset
    group by part.dataset, part.delivery_id, dataset_prefectures.prefectures
    -- a delivery of the dataset in one file (not split) covers every prefecture
    having count(part.prefecture) > 0
),

header as (
    select loaded_event.dataset, loaded_event.delivery_id,
           count(*) as header_names,
           count(*) filter (where field.name ~ '^[A-Za-z][A-Za-z0-9_]{0,29}$') as header_conforming
    from loaded_event
    cross join lateral jsonb_array_elements_text(coalesce(loaded_event.detail -> 'header', '[]'))
        as field (name)
    group by loaded_event.dataset, loaded_event.delivery_id
)

select
    delivery.dataset,
    delivery.department,
    delivery.delivery_id,
    delivery.channel,
    delivery.mode,
    delivery.status,
    -- the quarter and the day (Beijing time) the delivery stands for: timeliness counts the
    -- days its cycle expects, whatever the session's time zone
    to_char(coalesce(delivery.extract_time, delivery.first_seen_at) at time zone 'Asia/Shanghai',
            'YYYY"Q"Q') as quarter,
    (coalesce(delivery.extract_time, delivery.first_seen_at) at time zone 'Asia/Shanghai')::date
        as extract_date,
    delivery.rows_declared,
    delivery.rows_loaded,
    delivery.rows_quarantined,
    (delivery.status in ('loaded', 'partially_quarantined'))::int as loadable,
    case when delivery.rows_declared > 0
         then coalesce(delivery.rows_loaded, 0)::numeric / delivery.rows_declared end as rows_loaded_share,
    coalesce(profile.completeness, 1) as completeness,
    -- a delivery not split by city, or a dataset that never was: complete coverage
    case when delivery.status in ('loaded', 'partially_quarantined')
         then coalesce(coverage.coverage, 1) end as coverage,
    header.header_names,
    header.header_conforming,
    coalesce(profile.value_normativity, 1) as value_normativity,
    cardinality(delivery.extra_columns) + cardinality(delivery.missing_columns) as header_deviations,
    case
        when delivery.channel = 'frontend_db' then 1  -- pulled when we ask: on time by design
        when delivery.extract_time is null or delivery.manifest_mtime_ns is null then null
        else (to_timestamp(delivery.manifest_mtime_ns / 1e9) - delivery.extract_time
              <= make_interval(days => delivery.promised_days + 1))::int
    end as timely,
    -- arrival: when the department wrote the manifest into the landing zone
    round((extract(epoch from to_timestamp(delivery.manifest_mtime_ns / 1e9) - delivery.extract_time)
           / 3600)::numeric, 1) as arrival_lag_hours,
    delivery.error_code
from delivery
left join profile
    on profile.dataset = delivery.dataset and profile.delivery_id = delivery.delivery_id
left join coverage
    on coverage.dataset = delivery.dataset and coverage.delivery_id = delivery.delivery_id
left join header
    on header.dataset = delivery.dataset and header.delivery_id = delivery.delivery_id
