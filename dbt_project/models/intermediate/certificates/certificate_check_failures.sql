-- Every structured-check failure its issuing department can fix, as the correction loop
-- (standard 6.1) raises it: one row per failing certificate and field. A certificate in the
-- library (dataset dzzz_zzxx, its zzbs) with a surface field missing or the layout file only
-- is MISSING_REQUIRED; a field malformed or disagreeing with the business record, or a
-- status other than the record's, is SOURCE_CONFLICT with the business record's value. A
-- certificate never aggregated is MISSING_REQUIRED against the business record that should
-- have issued it (its dataset and holder's record key, field dzzz_zzxx). The department is
-- the issuing one (the business dataset's, seed dataset_catalogue).
select
    'dzzz_zzxx' as dataset,
    check_row.record_key,
    matched.certificate_type,
    case when check_row.field in ('zmxx', 'zzzt') then check_row.field
         else 'zmxx.' || check_row.field end as field,
    check_row.problem,
    case when check_row.problem in ('missing', 'layout_only') then 'MISSING_REQUIRED'
         else 'SOURCE_CONFLICT' end as request_type,
    expected.department,
    check_row.delivered_value,
    check_row.expected_value
from {{ ref('int_certificate_checks') }} as check_row
join {{ ref('int_certificate_matches') }} as matched using (record_key)
join {{ ref('int_certificate_expected') }} as expected
    on expected.certificate_type = matched.certificate_type
    and expected.holder_record_key = matched.holder_record_key
where matched.duplicate_of is null

union all
select
    outcome.business_dataset,
    outcome.holder_record_key,
    outcome.certificate_type,
    'dzzz_zzxx',
    'never_aggregated',
    'MISSING_REQUIRED',
    outcome.department,
    null,
    outcome.certificate_type
from {{ ref('int_certificate_outcome') }} as outcome
where not outcome.in_library
