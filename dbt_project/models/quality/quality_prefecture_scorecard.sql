-- The scorecard per dataset and prefecture (市) where records carry a division (a person's
-- household registration, an organisation's division): of the live records of the prefecture,
-- the share without an unresolved MISSING_REQUIRED request (completeness), without an
-- unresolved identifier problem (identifier validity), and the requests about them answered
-- within 30 days of those due (corrections, 1 with none due). index = 100 x their mean; stars
-- as the dataset scorecard's. Quarter: the business date's (newest file extract). Before the
-- observations are built (a scorecard of deliveries alone) it has no rows.
-- depends_on: {{ ref('int_person_observations') }}
-- depends_on: {{ ref('int_organisation_observations') }}
{%- set built = execute and load_relation(ref('int_person_observations')) is not none
                and load_relation(ref('int_organisation_observations')) is not none %}

with business as (
    select coalesce(max(extract_date) filter (where channel = 'file' and loadable = 1),
                    max(extract_date))
        as business_date
    from {{ ref('quality_delivery_metrics') }}
),

record as (
    {% if built %}
    select distinct dataset, regexp_replace(record_key, '#[A-Z]+$', '') as record_key,
           left(hukou_division_code, 4) || '00' as prefecture_code
    from {{ ref('int_person_observations') }}
    where hukou_division_code ~ '^45[0-9]{4}$'
    union
    select dataset, regexp_replace(record_key, '#[A-Z]+$', ''), left(division_code, 4) || '00'
    from {{ ref('int_organisation_observations') }}
    where division_code ~ '^45[0-9]{4}$'
    {% else %}
    select null::text as dataset, null::text as record_key, null::text as prefecture_code
    where false
    {% endif %}
),

answered as (
    select request_id, min(nullif(detail ->> 'handled_date', '')::date) as first_answer
    from {{ source('correction', 'request_event') }}
    where answer_sequence is not null
    group by request_id
),

request as (
    select
        request.dataset,
        regexp_replace(request.record_key, '#[A-Z]+$', '') as record_key,
        request.request_type,
        request.state in ('open', 'reported', 'answered', 'reopened') as unresolved,
        answered.first_answer - request.raised_on <= 30 as answered_30d,
        answered.first_answer is not null
            or (select business_date from business) - request.raised_on > 30 as due
    from {{ source('correction', 'request') }} as request
    left join answered on answered.request_id = request.request_id
    where request.origin = 'platform'
),

per_prefecture as (
    select
        record.dataset,
        record.prefecture_code,
        count(distinct record.record_key) as records,
        count(distinct record.record_key) filter (
            where request.unresolved and request.request_type = 'MISSING_REQUIRED')
            as records_missing_required,
        count(distinct record.record_key) filter (
            where request.unresolved and request.request_type in (
                'ID_CHECK', 'ID_RECORD_MISMATCH', 'ID_OTHER_PERSON', 'CODE_CHECK', 'DATE_INVALID'))
            as records_identifier_problem,
        count(*) filter (where request.due) as requests_due,
        count(*) filter (where request.due and request.answered_30d) as requests_answered_30d
    from record
    left join request
        on request.dataset = record.dataset and request.record_key = record.record_key
    group by record.dataset, record.prefecture_code
),

scored as (
    select
        per_prefecture.*,
        1 - per_prefecture.records_missing_required::numeric / per_prefecture.records
            as completeness,
        1 - per_prefecture.records_identifier_problem::numeric / per_prefecture.records
            as identifier_validity,
        case when per_prefecture.requests_due = 0 then 1
             else per_prefecture.requests_answered_30d::numeric / per_prefecture.requests_due
        end as corrections
    from per_prefecture
)

select
    scored.dataset,
    catalogue.department,
    to_char(business.business_date, 'YYYY"Q"Q') as quarter,
    scored.prefecture_code,
    scored.records,
    scored.records_missing_required,
    scored.records_identifier_problem,
    round(scored.completeness, 4) as completeness,
    round(scored.identifier_validity, 4) as identifier_validity,
    round(scored.corrections, 4) as corrections,
    round(100 * (scored.completeness + scored.identifier_validity + scored.corrections) / 3, 1)
        as quality_index,
    case
        when 100 * (scored.completeness + scored.identifier_validity + scored.corrections) / 3 >= 90
            then 5
        when 100 * (scored.completeness + scored.identifier_validity + scored.corrections) / 3 >= 80
            then 4
        when 100 * (scored.completeness + scored.identifier_validity + scored.corrections) / 3 >= 70
            then 3
        when 100 * (scored.completeness + scored.identifier_validity + scored.corrections) / 3 >= 60
            then 2
        else 1
    end as stars
from scored
cross join business
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = scored.dataset
