-- Per expected certificate (int_certificate_expected), what the library holds of it: in the
-- library (some certificate matched it), valid (one with the status its business record
-- gives: valid while the registration is live, annulled after), structured (a valid one
-- whose every surface field is filled, well formed and agrees), and otherwise the main
-- reason: never_aggregated, layout_only, status_disagrees, or the first failing field
-- ("<field> missing | malformed | disagrees"). Of a certificate aggregated twice, the best
-- copy counts.
with copy as (
    select
        matched.certificate_type,
        matched.holder_record_key,
        matched.record_key,
        count(check_row.field) as problems,
        bool_or(check_row.field = 'zzzt') as status_disagrees,
        min(case when check_row.problem = 'layout_only' then 'layout_only'
                 when check_row.field <> 'zzzt' then check_row.field || ' ' || check_row.problem end)
            as first_problem
    from {{ ref('int_certificate_matches') }} as matched
    left join {{ ref('int_certificate_checks') }} as check_row using (record_key)
    where matched.holder_record_key is not null
    group by matched.certificate_type, matched.holder_record_key, matched.record_key
),

best as (
    select distinct on (certificate_type, holder_record_key) *
    from copy
    order by certificate_type, holder_record_key, problems, record_key
)

select
    expected.certificate_type,
    expected.holder_record_key,
    expected.business_dataset,
    expected.business_record_key,
    expected.holder_kind,
    expected.holder_id,
    expected.prefecture_code,
    expected.department,
    best.record_key as certificate_id,
    best.record_key is not null as in_library,
    best.record_key is not null and not coalesce(best.status_disagrees, false) as is_valid,
    coalesce(best.problems = 0, false) as is_structured,
    case
        when best.record_key is null then 'never_aggregated'
        when best.problems = 0 then null
        when best.first_problem = 'layout_only' then 'layout_only'
        when best.status_disagrees and best.first_problem is null then 'status_disagrees'
        else best.first_problem
    end as reason
from {{ ref('int_certificate_expected') }} as expected
left join best
    on best.certificate_type = expected.certificate_type
    and best.holder_record_key = expected.holder_record_key
