-- Organisations for analysts: everything but the legal representative's person id, which
-- becomes the representative's pseudonymous key.
{{ config(alias='legal_person', post_hook="{{ comment_like_published('legal_person') }}") }}

select
    organisation.legal_person_id,
    organisation.uscc,
    organisation.organization_code,
    organisation.registration_number,
    organisation.name,
    organisation.former_names,
    organisation.org_kind,
    organisation.status,
    organisation.establishment_date,
    organisation.registered_capital_cny,
    organisation.address,
    organisation.division_code,
    organisation.industry_code,
    case when organisation.legal_rep_person_id is not null then
        {{ analyst_person_key('representative.pseudonym', 'organisation.legal_rep_person_id') }}
    end as legal_rep_person_key,
    organisation.tax_credit_rating,
    organisation.tax_credit_rating_year,
    organisation.source_count,
    organisation.last_changed,
    organisation.name_source,
    organisation.status_source
from {{ source('published', 'legal_person') }} as organisation
left join {{ source('access', 'person_pseudonym') }} as representative
    on representative.person_id = organisation.legal_rep_person_id
{{ analyst_key_salt_join() }}
