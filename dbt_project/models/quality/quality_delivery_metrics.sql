-- Per delivery or pull: the facts the scorecard is made of (0..1 each).
-- completeness: required columns filled (profile suite, not-null expectations);
-- value normativity: coded columns within their code lists (profile suite, in-set);
-- loadable: the delivery was loaded (availability); timely: it arrived (its manifest was
-- written) within the promised cycle after its extract (timeliness).
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
        avg(1 - (expectation -> 'result' ->> 'unexpected_percent')::numeric / 100)
            filter (where expectation ->> 'expectation_type' = 'expect_column_values_to_not_be_null')
            as completeness,
        avg(1 - (expectation -> 'result' ->> 'unexpected_percent')::numeric / 100)
            filter (where expectation ->> 'expectation_type' = 'expect_column_values_to_be_in_set')
            as value_normativity
    from {{ source('ops', 'validation_result') }} as result
    cross join lateral jsonb_array_elements(result.result -> 'expectations') as expectation
    where result.suite_name like '%.profile'
    group by result.dataset, result.delivery_id
)

select
    delivery.dataset,
    delivery.department,
    delivery.delivery_id,
    delivery.channel,
    delivery.mode,
    delivery.status,
    to_char(coalesce(delivery.extract_time, delivery.first_seen_at), 'YYYY"Q"Q') as quarter,
    -- the day the delivery stands for (timeliness counts the days its cycle expects)
    coalesce(delivery.extract_time, delivery.first_seen_at)::date as extract_date,
    delivery.rows_declared,
    delivery.rows_loaded,
    delivery.rows_quarantined,
    (delivery.status in ('loaded', 'partially_quarantined'))::int as loadable,
    case when delivery.rows_declared > 0
         then coalesce(delivery.rows_loaded, 0)::numeric / delivery.rows_declared end as rows_loaded_share,
    coalesce(profile.completeness, 1) as completeness,
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
