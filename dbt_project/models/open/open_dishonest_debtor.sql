-- 失信被执行人 on the list now (a debtor removed, SCBZ = '1', is gone from the current
-- records). A natural person appears as 张* with the ID number masked.
select
    debtor.case_number::text as case_number,
    case when debtor.debtor_kind = 'person' then {{ open_person_name('debtor.debtor_name') }}
         else debtor.debtor_name end as debtor_name,
    debtor.debtor_kind::text as debtor_kind,
    case when debtor.debtor_kind = 'person' then {{ open_id_number('debtor.id_number') }}
         else coalesce(debtor.uscc, organisation.uscc, debtor.organization_code) end as debtor_code,
    case when debtor.debtor_kind = 'organisation' then debtor.legal_rep_name end as legal_rep_name,
    debtor.court::text as court,
    debtor.filing_date::date as filing_date,
    debtor.publish_date::date as publish_date,
    debtor.conduct::text as conduct,
    debtor.performance::text as performance
from {{ ref('stg_fy_sxbzxr__debtors') }} as debtor
left join {{ source('published', 'record_link') }} as link
    on link.dataset = 'fy_sxbzxr' and link.record_key = debtor.record_key
    and link.entity_kind = 'legal_person'
left join {{ source('published', 'legal_person') }} as organisation
    on organisation.legal_person_id = link.entity_id
