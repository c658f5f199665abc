-- The credit score and grade per legal person: the base score of the rules version plus the
-- points of every rule that applies (evaluation_line), graded by seed credit_grades.
{{ config(post_hook=["create index on {{ this }} (uscc)"]) }}  {#- unnamed: the swapped-out table holds the old name #}
with scored as (
    select legal_person_id, rules_version,
           sum(points) filter (where applies) as points,
           count(*) filter (where applies) as rules_applied,
           bool_or(source_stale) filter (where applies) as uses_stale_source
    from {{ ref('evaluation_line') }}
    group by legal_person_id, rules_version
),

grades as (
    select * from {{ ref('credit_grades') }}
)

select
    profile.legal_person_id::text as legal_person_id,
    profile.uscc::text as uscc,
    profile.name::text as name,
    profile.as_of_date::date as as_of_date,
    scored.rules_version::text as rules_version,
    (base.base_score + coalesce(scored.points, 0))::int as score,
    (select grades.grade from grades
     where grades.rules_version = scored.rules_version
       and base.base_score + coalesce(scored.points, 0) >= grades.min_score
     order by grades.min_score desc limit 1)::text as grade,
    coalesce(scored.rules_applied, 0)::int as rules_applied,
    coalesce(scored.uses_stale_source, false)::boolean as uses_stale_source,
    profile.stale_sources::text[] as stale_sources
from {{ ref('enterprise_profile') }} as profile
join scored using (legal_person_id)
join (select rules_version, max(base_score) as base_score from grades group by rules_version)
    as base using (rules_version)
