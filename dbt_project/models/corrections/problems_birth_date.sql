-- Found (issue 21): birth dates that are no date (30 February), lie in the future or cannot be
-- read. Another format of a real date (1990/1/2, 1990年1月2日) is a format variant: it raises
-- nothing. Suggested: the birth date of the person the record resolved to, in the column's
-- declared format.
with found as (
    select
        obs.dataset,
        obs.record_key,
        person_column.column_name,
        obs.delivery_id,
        person_column.date_format,
        golden.birth_date as golden_birth_date
    from {{ person_records('birth') }}
    where obs.birth_date is null
),

delivered as ({{ with_delivered_value('found', person_pairs('birth')) }}),

flagged as (
    select delivered.*, {{ function('date_flag') }}(delivered.delivered_value) as flag
    from delivered
)

select
    found.dataset,
    found.record_key,
    found.column_name,
    found.delivered_value,
    'birth date is ' || found.flag as problem,
    'DATE_INVALID' as request_type,
    case found.flag
        when 'impossible' then 'no such day'
        when 'future' then 'after the extract'
        else 'not a date'
    end as evidence,
    to_char(found.golden_birth_date, found.date_format) as suggested_value,
    catalogue.department
from flagged as found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
where found.flag in ('impossible', 'future', 'unparseable')
