-- The province's four dimensions per dataset and quarter, a 0-100 index and 1-5 stars.
-- Formula (docs/quality-scorecard.md):
--   normativity  = 0.5 * value normativity + 0.25 * conforming field names
--                  + 0.25 * catalogue fields filled, minus header deviations
--   completeness = required fields filled * rows loaded of rows delivered
--   availability = deliveries or pulls that loaded / all of them
--   timeliness   = deliveries that arrived within the promised cycle
--   index = 25 * (sum of the four), stars: >= 90 five, 80 four, 70 three, 60 two, else one.
with per_quarter as (
    select
        metrics.dataset,
        metrics.department,
        metrics.quarter,
        count(*) as deliveries,
        sum(metrics.loadable) as loaded,
        avg(metrics.value_normativity) filter (where metrics.loadable = 1) as value_normativity,
        avg(metrics.completeness) filter (where metrics.loadable = 1) as completeness,
        avg(metrics.rows_loaded_share) filter (where metrics.loadable = 1) as rows_loaded_share,
        avg(metrics.loadable) as availability,
        avg(metrics.timely) as timeliness,
        sum(metrics.header_deviations) as header_deviations,
        sum(metrics.rows_quarantined) as rows_quarantined,
        count(*) filter (where metrics.status = 'rejected') as rejected
    from {{ ref('quality_delivery_metrics') }} as metrics
    group by metrics.dataset, metrics.department, metrics.quarter
),

scored as (
    select
        per_quarter.*,
        greatest(0, 0.5 * coalesce(per_quarter.value_normativity, 0)
            + 0.25 * catalogue.columns_conforming::numeric / catalogue.columns_total
            + 0.25 * catalogue.catalogue_fields_filled::numeric / catalogue.catalogue_fields_total
            - 0.02 * per_quarter.header_deviations) as normativity,
        coalesce(per_quarter.completeness, 0) * coalesce(per_quarter.rows_loaded_share, 0)
            as completeness_score,
        coalesce(per_quarter.timeliness, 0) as timeliness_score
    from per_quarter
    join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = per_quarter.dataset
)

select
    dataset,
    department,
    quarter,
    deliveries,
    loaded,
    rejected,
    rows_quarantined,
    round(normativity, 4) as normativity,
    round(completeness_score, 4) as completeness,
    round(availability, 4) as availability,
    round(timeliness_score, 4) as timeliness,
    round(25 * (normativity + completeness_score + availability + timeliness_score), 1)
        as quality_index,
    case
        when 25 * (normativity + completeness_score + availability + timeliness_score) >= 90 then 5
        when 25 * (normativity + completeness_score + availability + timeliness_score) >= 80 then 4
        when 25 * (normativity + completeness_score + availability + timeliness_score) >= 70 then 3
        when 25 * (normativity + completeness_score + availability + timeliness_score) >= 60 then 2
        else 1
    end as stars
from scored
