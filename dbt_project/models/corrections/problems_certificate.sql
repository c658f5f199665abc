-- Found (issues 20 and 21): library certificates (dzzz_zzxx) that fail the structured check
-- for a reason their issuing department can fix (intermediate.certificate_check_failures,
-- ADR 0018): a surface field empty or absent, or the layout file only (MISSING_REQUIRED); a
-- surface field malformed or disagreeing with the business record, or a status other than
-- the record's (SOURCE_CONFLICT). One row per certificate and field (zmxx.<key>, zmxx,
-- zzzt), the first copy of a certificate aggregated twice only. The department is the
-- issuing one, not the library's. Suggested: the business record's value in the form the
-- check compares (the status as its code).
-- A certificate never aggregated is no request: there is no delivered record and field to
-- name, nor a later delivery of one that could confirm it; the rate counts it.
select
    failure.dataset,
    failure.record_key,
    failure.field as column_name,
    case when failure.field = 'zzzt'
         then case failure.delivered_value when 'valid' then '1' when 'annulled' then '2' end
         else failure.delivered_value end as delivered_value,
    case failure.problem
        when 'layout_only' then 'certificate ' || failure.certificate_type || ' has the layout file only, no surface data'
        when 'status_disagrees' then 'certificate ' || failure.certificate_type || ' is ' || failure.delivered_value
            || ', its business record says ' || failure.expected_value
        else 'surface field ' || substr(failure.field, 6) || ' of certificate ' || failure.certificate_type
            || ' is ' || replace(failure.problem, 'disagrees', 'disagreeing with its business record')
    end as problem,
    failure.request_type,
    'business record ' || matched.business_dataset || '/' || matched.business_record_key
        || case when failure.expected_value is not null and failure.field <> 'zzzt'
                then ' gives ' || failure.expected_value else '' end as evidence,
    case when failure.field = 'zzzt'
         then case failure.expected_value when 'valid' then '1' when 'annulled' then '2' end
         else failure.expected_value end as suggested_value,
    failure.department
from {{ ref('certificate_check_failures') }} as failure
inner join {{ ref('int_certificate_matches') }} as matched on matched.record_key = failure.record_key
where failure.dataset = 'dzzz_zzxx'
  and failure.department is not null
