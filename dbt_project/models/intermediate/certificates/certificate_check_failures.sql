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
    record_key,
    certificate_type,
    case when field in ('zmxx', 'zzzt') then field else 'zmxx.' || field end as field,
    problem,
    request_type,
    department,
    delivered_value,
    expected_value
from {{ ref('int_certificate_checks') }}
where duplicate_of is null

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
