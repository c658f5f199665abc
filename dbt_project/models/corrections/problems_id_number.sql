-- Found (issue 21, standard 6.1): person records' ID numbers that fail their check (ID_CHECK),
-- disagree with their own record's birth date or sex (ID_RECORD_MISMATCH), or belong to the
-- person the register holds under another name (ID_OTHER_PERSON: a relative's number). Values
-- are compared standardised, so format variants (lower-case x, full-width digits, spaces, the
-- legacy 15 digits) raise nothing. Suggested: the ID number of the person the record resolved
-- to, where it differs and agrees with the record.
with observation as (
    select
        obs.dataset,
        obs.record_key,
        obs.delivery_id,
        obs.id_number,
        obs.id_number_valid,
        obs.id_agrees_with_record,
        obs.name_key,
        obs.birth_date,
        person_column.column_name,
        golden.id_number as golden_id_number
    from {{ person_records('id') }}
    where obs.id_number is not null and coalesce(obs.id_type, '111') = '111'
),

register as (
    select id_number, name_key, {{ function('name_key') }}(former_name) as former_name_key
    from {{ ref('int_person_observations') }}
    where dataset = 'gat_czrk' and id_number_valid
),

-- Observations whose valid number the register holds under none of their names (nor a
-- name one sound-alike character apart). A join, not a lookup per observation: a CTE read
-- twice is materialised without an index (the lookups took 5 minutes at 50k persons).
other_person as (
    select observation.dataset, observation.record_key, observation.column_name,
           observation.id_number
    from observation
    inner join register on register.id_number = observation.id_number
    where observation.id_number_valid and observation.dataset <> 'gat_czrk'
      and observation.name_key is not null
    group by observation.dataset, observation.record_key, observation.column_name,
             observation.id_number
    having not bool_or(coalesce(
        register.name_key = observation.name_key
        or register.former_name_key = observation.name_key
        or {{ one_char_apart('register.name_key', 'observation.name_key') }}, false))
),

classified as (
    select
        observation.*,
        case
            when not observation.id_number_valid and observation.id_number ~ '^[0-9]{17}[0-9X]$'
                then 'ID_CHECK'
            when observation.id_number_valid and not observation.id_agrees_with_record
                then 'ID_RECORD_MISMATCH'
            when other_person.record_key is not null then 'ID_OTHER_PERSON'
        end as request_type
    from observation
    left join other_person
        on other_person.dataset = observation.dataset
        and other_person.record_key = observation.record_key
        and other_person.column_name = observation.column_name
        and other_person.id_number = observation.id_number
),

found as (
    select
        dataset,
        record_key,
        column_name,
        delivery_id,
        request_type,
        case request_type
            when 'ID_CHECK' then 'ID number fails its check character (GB 11643)'
            when 'ID_RECORD_MISMATCH' then 'ID number disagrees with the record''s birth date or sex'
            else 'ID number belongs to another person in the register (gat_czrk)'
        end as problem,
        case request_type
            when 'ID_CHECK' then 'check character ' || right(id_number, 1) || ', computed '
                || {{ function('id_check_char') }}(left(id_number, 17))
            when 'ID_RECORD_MISMATCH' then 'ID number gives birth date ' || substr(id_number, 7, 8)
                || ' and sex ' || case when substr(id_number, 17, 1)::int % 2 = 1 then '1' else '2' end
                || '; the record: ' || coalesce(to_char(birth_date, 'YYYYMMDD'), '-')
            else 'the register holds this number under another name'
        end as evidence,
        case when {{ function('is_valid_id_number') }}(golden_id_number)
                  and golden_id_number <> id_number
                  and (birth_date is null
                       or {{ function('id_birth_date') }}(golden_id_number) = birth_date)
             then golden_id_number end as suggested_value
    from classified
    where request_type is not null
),

delivered as ({{ with_delivered_value('found', person_pairs('id')) }})

select {{ problem_columns() }}
from delivered as found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
