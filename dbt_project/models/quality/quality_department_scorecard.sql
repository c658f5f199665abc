-- The scorecard rolled up per department and quarter (mean of its datasets).
select
    department,
    quarter,
    count(*) as datasets,
    sum(deliveries) as deliveries,
    sum(rejected) as rejected,
    round(avg(normativity), 4) as normativity,
    round(avg(completeness), 4) as completeness,
    round(avg(availability), 4) as availability,
    round(avg(timeliness), 4) as timeliness,
    round(avg(corrections), 4) as corrections,
    sum(requests_raised) as requests_raised,
    sum(requests_confirmed) as requests_confirmed,
    round(avg(quality_index), 1) as quality_index,
    case
        when avg(quality_index) >= 90 then 5 when avg(quality_index) >= 80 then 4
        when avg(quality_index) >= 70 then 3 when avg(quality_index) >= 60 then 2 else 1
    end as stars
from {{ ref('quality_dataset_scorecard') }}
group by department, quarter
