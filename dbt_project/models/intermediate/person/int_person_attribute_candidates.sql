-- Every value a live source record offers for a golden attribute, with its entity id:
-- the input of survivorship (int_person_golden_attributes).
{{ incremental_entity_config('person_id', 'person') }}
-- depends_on: {{ ref('int_touched_entities') }}
select
    resolved.person_id,
    observation.dataset,
    observation.record_key,
    candidate.attribute,
    candidate.value,
    candidate.is_valid,
    observation.updated_at
from {{ ref('int_person_observations') }} as observation
join {{ source('resolve', 'person_record') }} as resolved
    on resolved.dataset = observation.dataset and resolved.record_key = observation.record_key
-- the record's ID number is a key its person was resolved by (a hash join, not a lookup a row)
left join (
    select distinct person_id, match_key
    from {{ source('resolve', 'person_record') }}
    where match_key is not null
) as entity_key
    on entity_key.person_id = resolved.person_id and entity_key.match_key = observation.id_number
cross join lateral (
    values
        -- Resident ID numbers only (a passport number is not one), and only a number the
        -- person was resolved by (a key of the entity): never a relative's number in one of
        -- its records, a number contradicting its record, or a typed-wrong number.
        ('id_number', case when coalesce(observation.id_type, '111') = '111'
                            and observation.id_number_valid
                            and entity_key.match_key is not null
                           then observation.id_number end,
         true),
        ('name', observation.name, observation.name is not null),
        ('sex_code', observation.sex_code, observation.sex_code in ('1', '2')),
        ('birth_date', observation.birth_date::text, observation.birth_date is not null),
        ('ethnicity_code', observation.ethnicity_code, observation.ethnicity_code is not null),
        ('hukou_division_code', observation.hukou_division_code, observation.hukou_division_code is not null),
        ('hukou_address', observation.hukou_address, observation.hukou_address is not null),
        ('residential_address', observation.residential_address, observation.residential_address is not null),
        ('mobile', observation.mobile, observation.mobile is not null),
        ('status', observation.status, observation.status is not null),
        ('death_date', observation.death_date::text, observation.death_date is not null)
) as candidate (attribute, value, is_valid)
where candidate.value is not null and {{ touched_only('resolved.person_id', 'person') }}
