-- The natural-person repository: one golden record per person. Each attribute's *_source
-- column names the dataset it came from (rules: seeds/survivorship_rules.csv).
{%- set attributes = ['id_number', 'name', 'sex_code', 'birth_date', 'ethnicity_code',
                      'hukou_division_code', 'hukou_address', 'residential_address', 'mobile',
                      'status', 'death_date'] %}

{{ incremental_entity_config('person_id', 'person') }}
-- the publish gate counts the codes of the touched entities again (publish.build_measures)
{{ config(indexes=[{'columns': ['id_number']}]) }}
-- depends_on: {{ ref('int_touched_entities') }}

with golden as (
    select
        person_id,
        {% for attribute in attributes %}
        max(value) filter (where attribute = '{{ attribute }}') as {{ attribute }},
        max(dataset) filter (where attribute = '{{ attribute }}') as {{ attribute }}_source{{ "," if not loop.last }}
        {% endfor %}
    from {{ ref('int_person_golden_attributes') }}
    where {{ touched_only('person_id', 'person') }}
    group by person_id
),

published as (
    -- persons with more than mentions: a valid key or a birth date in some live record
    select resolved.person_id
    from {{ source('resolve', 'person_record') }} as resolved
    join {{ ref('int_person_observations') }} as observation using (dataset, record_key)
    where {{ touched_only('resolved.person_id', 'person') }}
    group by resolved.person_id
    having bool_or(not observation.is_mention)
),

observed as (
    select
        resolved.person_id,
        count(*) filter (where observation.record_key is not null) as source_count,
        min(resolved.first_seen_at) as first_seen,
        max(observation.updated_at) as last_changed
    from {{ source('resolve', 'person_record') }} as resolved
    left join {{ ref('int_person_observations') }} as observation
        on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
    where {{ touched_only('resolved.person_id', 'person') }}
    group by resolved.person_id
),

former as (
    -- names the person was known by: registered former names, and other names in the sources
    select person_id, array_agg(distinct former_name order by former_name) as former_names
    from (
        select resolved.person_id, observation.former_name
        from {{ ref('int_person_observations') }} as observation
        join {{ source('resolve', 'person_record') }} as resolved using (dataset, record_key)
        where observation.former_name is not null
          and {{ touched_only('resolved.person_id', 'person') }}
        union
        select resolved.person_id, observation.name
        from {{ ref('int_person_observations') }} as observation
        join {{ source('resolve', 'person_record') }} as resolved using (dataset, record_key)
        join golden on golden.person_id = resolved.person_id
        where observation.name is not null
          and observation.name_key <> {{ function('name_key') }}(golden.name)
    ) as names
    group by person_id
)

select
    golden.person_id::text as person_id,
    golden.id_number::text as id_number,
    golden.name::text as name,
    coalesce(former.former_names, array[]::text[]) as former_names,
    coalesce(golden.sex_code, {{ function('id_sex_code') }}(golden.id_number))::text as sex_code,
    golden.ethnicity_code::text as ethnicity_code,
    coalesce(golden.birth_date::date, {{ function('id_birth_date') }}(golden.id_number)) as birth_date,
    golden.hukou_division_code::text as hukou_division_code,
    golden.hukou_address::text as hukou_address,
    golden.residential_address::text as residential_address,
    golden.mobile::text as mobile,
    coalesce(golden.status, 'unknown')::text as status,
    golden.death_date::date as death_date,
    observed.source_count::int as source_count,
    observed.first_seen::timestamptz as first_seen,
    observed.last_changed::timestamp as last_changed,
    golden.id_number_source::text as id_number_source,
    golden.name_source::text as name_source,
    case when golden.sex_code is not null then golden.sex_code_source
         when {{ function('id_sex_code') }}(golden.id_number) is not null then 'id_number' end::text as sex_code_source,
    golden.ethnicity_code_source::text as ethnicity_code_source,
    case when golden.birth_date is not null then golden.birth_date_source
         when {{ function('id_birth_date') }}(golden.id_number) is not null then 'id_number' end::text as birth_date_source,
    golden.hukou_address_source::text as hukou_address_source,
    golden.mobile_source::text as mobile_source,
    golden.status_source::text as status_source
from golden
join published on published.person_id = golden.person_id
join observed on observed.person_id = golden.person_id
left join former on former.person_id = golden.person_id
