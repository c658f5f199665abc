-- 企业登记公示信息: every enterprise, individual business and farmers' cooperative in
-- business (status active), as the registration publishes it; the legal representative
-- (an individual business's operator) by name, as the law prescribes.
select
    organisation.uscc::text as uscc,
    organisation.name::text as name,
    organisation.org_kind::text as org_kind,
    representative.name::text as legal_representative,
    organisation.registered_capital_cny::numeric(18,2) as registered_capital_cny,
    organisation.establishment_date::date as establishment_date,
    organisation.address::text as address,
    organisation.division_code::text as division_code,
    organisation.industry_code::text as industry_code,
    organisation.status::text as status
from {{ source('published', 'legal_person') }} as organisation
left join {{ source('published', 'natural_person') }} as representative
    on representative.person_id = organisation.legal_rep_person_id
where organisation.org_kind in ('enterprise', 'individual_business', 'cooperative')
    and organisation.status = 'active'
