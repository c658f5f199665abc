-- Every value a live organisation record offers for a golden attribute, with its entity id.
{{ incremental_entity_config('legal_person_id', 'organisation') }}
-- depends_on: {{ ref('int_touched_entities') }}
select
    resolved.legal_person_id,
    observation.dataset,
    observation.record_key,
    candidate.attribute,
    candidate.value,
    candidate.is_valid,
    observation.updated_at
from {{ ref('int_organisation_observations') }} as observation
join {{ source('resolve', 'legal_person_record') }} as resolved
    on resolved.dataset = observation.dataset and resolved.record_key = observation.record_key
cross join lateral (
    values
        ('uscc', observation.uscc, coalesce(observation.uscc_valid, false)),
        ('organization_code', observation.organization_code, observation.organization_code is not null),
        ('registration_number', observation.registration_number, observation.registration_number is not null),
        ('name', observation.name, observation.name is not null),
        ('org_kind', observation.org_kind, observation.org_kind is not null),
        ('status', observation.status, observation.status is not null),
        ('establishment_date', observation.establishment_date::text, observation.establishment_date is not null),
        ('registered_capital_cny', observation.registered_capital_cny::text, observation.registered_capital_cny is not null),
        ('address', observation.address, observation.address is not null),
        ('division_code', observation.division_code, observation.division_code is not null),
        ('industry_code', observation.industry_code, observation.industry_code is not null),
        ('legal_rep_record_key', observation.legal_rep_record_key, true),
        ('tax_credit_rating', observation.tax_credit_rating, observation.tax_credit_rating is not null),
        ('tax_credit_rating_year', observation.tax_credit_rating_year::text, observation.tax_credit_rating_year is not null)
) as candidate (attribute, value, is_valid)
where candidate.value is not null and {{ touched_only('resolved.legal_person_id', 'organisation') }}
