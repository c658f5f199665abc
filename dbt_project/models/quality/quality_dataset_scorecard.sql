-- The province's four dimensions per dataset and quarter, a 0-100 index and 1-5 stars.
-- Formula (docs/quality-scorecard.md):
--   normativity  = 0.4 * value normativity + 0.2 * identifier validity
--                  + 0.2 * conforming field names + 0.2 * catalogue fields filled, minus
--                  header deviations; identifier validity = 1 - identifier problems found
--                  (ID numbers, credit codes, dates: correction requests raised in the
--                  quarter) / records delivered in the quarter
--   completeness = the standard's columns filled (required ones weigh 2, optional 1)
--                  * rows loaded of rows delivered * coverage (of a delivery split by city,
--                  the prefectures it has of those the dataset delivers for)
--   availability = deliveries or pulls that loaded / all of them
--   timeliness   = deliveries that arrived within the promised cycle / the deliveries the
--                  cycle expects from the dataset's first delivery (or the quarter's start) to
--                  the business date (newest file delivery of any dataset), or those that
--                  came; a front-end table: the days it had changed within two cycles
--   corrections  = requests answered within 30 days / requests due (answered, or raised more
--                  than 30 days before the business date); 1 with none due
--   index = 20 * (sum of the five), stars: >= 90 five, 80 four, 70 three, 60 two, else one.
-- business date: the newest extract of a loaded file delivery (a pull, or a delivery
-- rejected before its extract time was read, is dated by the clock)
-- depends_on: {{ ref('int_certificate_matches') }}
{%- set certificates_built = execute
        and load_relation(ref('int_certificate_matches')) is not none %}
with business as (
    select coalesce(max(extract_date) filter (where channel = 'file' and loadable = 1),
                    max(extract_date))
        as business_date
    from {{ ref('quality_delivery_metrics') }}
),

first_delivery as (
    select dataset, min(extract_date) as first_date
    from {{ ref('quality_delivery_metrics') }}
    group by dataset
),

answered as (
    select request_id, min(nullif(detail ->> 'handled_date', '')::date) as first_answer
    from {{ source('correction', 'request_event') }}
    where answer_sequence is not null
    group by request_id
),

-- A library certificate's request (dzzz_zzxx) goes to the department that issued it (ADR
-- 0018) and counts for the business dataset its certificate was matched to: the corrections
-- dimension measures who must answer, not where the library keeps the copy.
corrections as (
    select
        coalesce({{ "certificate.business_dataset" if certificates_built else "null" }},
                 request.dataset) as dataset,
        to_char(request.raised_on, 'YYYY"Q"Q') as quarter,
        count(*) as requests_raised,
        count(*) filter (where answered.first_answer - request.raised_on <= 30)
            as requests_answered_30d,
        count(*) filter (where request.state = 'confirmed') as requests_confirmed,
        count(*) filter (where answered.first_answer is not null
                         or (select business_date from business) - request.raised_on > 30)
            as requests_due
    from {{ source('correction', 'request') }} as request
    left join answered on answered.request_id = request.request_id
    {%- if certificates_built %}
    left join {{ ref('int_certificate_matches') }} as certificate
        on request.dataset = 'dzzz_zzxx' and certificate.record_key = request.record_key
    {%- endif %}
    group by 1, 2
),

identifier_problems as (
    select dataset, to_char(raised_on, 'YYYY"Q"Q') as quarter, count(*) as problems
    from {{ source('correction', 'request') }}
    where origin = 'platform'
      and request_type in ('ID_CHECK', 'ID_RECORD_MISMATCH', 'ID_OTHER_PERSON', 'CODE_CHECK',
                           'DATE_INVALID')
    group by 1, 2
),

per_quarter as (
    select
        metrics.dataset,
        metrics.department,
        metrics.quarter,
        count(*) as deliveries,
        sum(metrics.loadable) as loaded,
        avg(metrics.value_normativity) filter (where metrics.loadable = 1) as value_normativity,
        avg(metrics.completeness) filter (where metrics.loadable = 1) as completeness,
        avg(metrics.rows_loaded_share) filter (where metrics.loadable = 1) as rows_loaded_share,
        avg(metrics.coverage) filter (where metrics.loadable = 1) as mean_coverage,
        sum(metrics.header_names) as header_names,
        sum(metrics.header_conforming) as header_conforming,
        avg(metrics.loadable) as availability,
        sum(coalesce(metrics.timely, 0)) as on_time,
        -- records delivered: the largest full, or the deltas' rows when more
        greatest(
            coalesce(max(metrics.rows_loaded) filter (where metrics.mode = 'full'), 0),
            coalesce(sum(metrics.rows_loaded) filter (where metrics.mode <> 'full'), 0)
        ) as records_delivered,
        sum(metrics.header_deviations) as header_deviations,
        sum(metrics.rows_quarantined) as rows_quarantined,
        count(*) filter (where metrics.status = 'rejected') as rejected
    from {{ ref('quality_delivery_metrics') }} as metrics
    group by metrics.dataset, metrics.department, metrics.quarter
),

quarter_span as (
    select
        per_quarter.dataset,
        per_quarter.quarter,
        make_date(left(per_quarter.quarter, 4)::int, right(per_quarter.quarter, 1)::int * 3 - 2, 1)
            as quarter_start
    from per_quarter
),

expected as (
    select
        per_quarter.dataset,
        per_quarter.quarter,
        greatest(1, ceil(
            (least((quarter_span.quarter_start + interval '3 months' - interval '1 day')::date,
                   business.business_date)
             - greatest(quarter_span.quarter_start, first_delivery.first_date) + 1)
            / catalogue.promised_days::numeric))::int as expected_deliveries
    from per_quarter
    cross join business
    join quarter_span
        on quarter_span.dataset = per_quarter.dataset and quarter_span.quarter = per_quarter.quarter
    join first_delivery on first_delivery.dataset = per_quarter.dataset
    join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = per_quarter.dataset
),

-- A front-end table's days: the days its stored rows changed on (each loaded pull records
-- them) and the source's newest GXSJ an empty pull found.
change_day as (
    select event.dataset, changed.day::date as day
    from {{ source('ops', 'delivery_event') }} as event
    cross join lateral jsonb_array_elements_text(coalesce(event.detail -> 'changed_on', '[]'))
        as changed (day)
    where event.event = 'loaded'
    union
    select dataset, (detail ->> 'source_newest_gxsj')::date
    from {{ source('ops', 'delivery_event') }}
    where event = 'empty_pull' and detail ->> 'source_newest_gxsj' is not null
),

-- Each day from its first change (or the quarter's start) to the business date is fresh when
-- the table changed within the last two promised cycles: unchanged for two cycles is stale.
frontend_day as (
    select
        per_quarter.dataset,
        per_quarter.quarter,
        series.day::date as day,
        catalogue.promised_days,
        (select max(change_day.day) from change_day
         where change_day.dataset = per_quarter.dataset and change_day.day <= series.day::date)
            as last_change
    from per_quarter
    cross join business
    join quarter_span
        on quarter_span.dataset = per_quarter.dataset and quarter_span.quarter = per_quarter.quarter
    join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = per_quarter.dataset
    cross join lateral generate_series(
        greatest(quarter_span.quarter_start,
                 (select min(change_day.day) from change_day
                  where change_day.dataset = per_quarter.dataset)),
        least((quarter_span.quarter_start + interval '3 months' - interval '1 day')::date,
              business.business_date),
        interval '1 day') as series (day)
    where catalogue.channel = 'frontend_db'
      -- pulls recorded before the days were: timeliness by the pulls, as before
      and exists (select 1 from change_day where change_day.dataset = per_quarter.dataset)
),

freshness as (
    select dataset, quarter, count(*) as days,
           count(*) filter (where day - last_change < 2 * promised_days) as fresh_days
    from frontend_day
    group by dataset, quarter
),

scored as (
    select
        per_quarter.*,
        greatest(0, 0.4 * coalesce(per_quarter.value_normativity, 0)
            + 0.2 * (1 - least(1, coalesce(identifier_problems.problems, 0)::numeric
                                  / greatest(per_quarter.records_delivered, 1)))
            + 0.2 * coalesce(per_quarter.header_conforming::numeric
                             / nullif(per_quarter.header_names, 0),
                             catalogue.columns_conforming::numeric / catalogue.columns_total)
            + 0.2 * catalogue.catalogue_fields_filled::numeric / catalogue.catalogue_fields_total
            - 0.02 * per_quarter.header_deviations) as normativity,
        1 - least(1, coalesce(identifier_problems.problems, 0)::numeric
                     / greatest(per_quarter.records_delivered, 1)) as identifier_validity,
        coalesce(per_quarter.completeness, 0) * coalesce(per_quarter.rows_loaded_share, 0)
            * coalesce(per_quarter.mean_coverage, 1) as completeness_score,
        coalesce(per_quarter.mean_coverage, 1) as coverage_share,
        case when freshness.days > 0 then freshness.fresh_days::numeric / freshness.days
             else per_quarter.on_time::numeric
                  / greatest(expected.expected_deliveries, per_quarter.deliveries)
        end as timeliness_score,
        coalesce(freshness.days, expected.expected_deliveries) as expected_deliveries,
        coalesce(corrections.requests_raised, 0) as requests_raised,
        coalesce(corrections.requests_answered_30d, 0) as requests_answered_30d,
        coalesce(corrections.requests_confirmed, 0) as requests_confirmed,
        case when coalesce(corrections.requests_due, 0) = 0 then 1
             else corrections.requests_answered_30d::numeric / corrections.requests_due
        end as corrections_score
    from per_quarter
    join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = per_quarter.dataset
    join expected on expected.dataset = per_quarter.dataset and expected.quarter = per_quarter.quarter
    left join corrections
        on corrections.dataset = per_quarter.dataset and corrections.quarter = per_quarter.quarter
    left join identifier_problems
        on identifier_problems.dataset = per_quarter.dataset
        and identifier_problems.quarter = per_quarter.quarter
    left join freshness
        on freshness.dataset = per_quarter.dataset and freshness.quarter = per_quarter.quarter
)

select
    dataset,
    department,
    quarter,
    deliveries,
    expected_deliveries,
    loaded,
    rejected,
    rows_quarantined,
    requests_raised,
    requests_answered_30d,
    requests_confirmed,
    round(normativity, 4) as normativity,
    round(identifier_validity, 4) as identifier_validity,
    round(completeness_score, 4) as completeness,
    round(coverage_share, 4) as coverage,
    round(availability, 4) as availability,
    round(timeliness_score, 4) as timeliness,
    round(corrections_score, 4) as corrections,
    round(20 * (normativity + completeness_score + availability + timeliness_score
                + corrections_score), 1) as quality_index,
    case
        when 20 * (normativity + completeness_score + availability + timeliness_score
                   + corrections_score) >= 90 then 5
        when 20 * (normativity + completeness_score + availability + timeliness_score
                   + corrections_score) >= 80 then 4
        when 20 * (normativity + completeness_score + availability + timeliness_score
                   + corrections_score) >= 70 then 3
        when 20 * (normativity + completeness_score + availability + timeliness_score
                   + corrections_score) >= 60 then 2
        else 1
    end as stars
from scored
