-- The legal-person repository: one golden record per organisation; *_source columns name
-- the dataset each attribute came from (rules: seeds/survivorship_rules.csv).
{%- set attributes = ['uscc', 'organization_code', 'registration_number', 'name', 'org_kind',
                      'status', 'establishment_date', 'registered_capital_cny', 'address',
                      'division_code', 'industry_code', 'legal_rep_record_key',
                      'tax_credit_rating', 'tax_credit_rating_year'] %}

{{ incremental_entity_config('legal_person_id', 'organisation') }}
-- the publish gate counts the codes of the touched entities again (publish.build_measures)
{{ config(indexes=[{'columns': ['uscc']}]) }}
-- depends_on: {{ ref('int_touched_entities') }}

with golden as (
    select
        legal_person_id,
        {% for attribute in attributes %}
        max(value) filter (where attribute = '{{ attribute }}') as {{ attribute }},
        max(dataset) filter (where attribute = '{{ attribute }}') as {{ attribute }}_source{{ "," if not loop.last }}
        {% endfor %}
    from {{ ref('int_organisation_golden_attributes') }}
    where {{ touched_only('legal_person_id', 'organisation') }}
    group by legal_person_id
),

observed as (
    select
        resolved.legal_person_id,
        count(*) filter (where observation.record_key is not null) as source_count,
        min(resolved.first_seen_at) as first_seen,
        max(observation.updated_at) as last_changed
    from {{ source('resolve', 'legal_person_record') }} as resolved
    left join {{ ref('int_organisation_observations') }} as observation
        on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
    where {{ touched_only('resolved.legal_person_id', 'organisation') }}
    group by resolved.legal_person_id
),

former as (
    select resolved.legal_person_id,
           array_agg(distinct observation.name order by observation.name) as former_names
    from {{ ref('int_organisation_observations') }} as observation
    join {{ source('resolve', 'legal_person_record') }} as resolved using (dataset, record_key)
    join golden on golden.legal_person_id = resolved.legal_person_id
    where observation.name_key <> {{ function('name_key') }}(golden.name)
    group by resolved.legal_person_id
)

select
    golden.legal_person_id::text as legal_person_id,
    golden.uscc::text as uscc,
    golden.organization_code::text as organization_code,
    golden.registration_number::text as registration_number,
    golden.name::text as name,
    coalesce(former.former_names, array[]::text[]) as former_names,
    coalesce(golden.org_kind,
        case left(golden.uscc, 2)
            when '91' then 'enterprise' when '92' then 'individual_business'
            when '93' then 'cooperative' when '12' then 'public_institution'
            when '51' then 'social_group' when '52' then 'private_non_enterprise'
            when '53' then 'foundation' end)::text as org_kind,
    coalesce(golden.status, 'unknown')::text as status,
    golden.establishment_date::date as establishment_date,
    golden.registered_capital_cny::numeric(18, 2) as registered_capital_cny,
    golden.address::text as address,
    golden.division_code::text as division_code,
    golden.industry_code::text as industry_code,
    representative.person_id::text as legal_rep_person_id,
    golden.tax_credit_rating::text as tax_credit_rating,
    golden.tax_credit_rating_year::int as tax_credit_rating_year,
    observed.source_count::int as source_count,
    observed.first_seen::timestamptz as first_seen,
    observed.last_changed::timestamp as last_changed,
    golden.uscc_source::text as uscc_source,
    golden.name_source::text as name_source,
    golden.status_source::text as status_source,
    golden.legal_rep_record_key_source::text as legal_rep_source,
    golden.tax_credit_rating_source::text as tax_credit_rating_source
from golden
join observed on observed.legal_person_id = golden.legal_person_id
left join former on former.legal_person_id = golden.legal_person_id
left join {{ source('resolve', 'person_record') }} as representative
    on representative.dataset = golden.legal_rep_record_key_source
    and representative.record_key = golden.legal_rep_record_key
