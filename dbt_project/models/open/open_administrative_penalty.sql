-- 行政处罚 (双公示) within their publication period (GSJZQ, Beijing today): a penalty deleted
-- by 信用修复 is gone from the current records. A natural person penalised appears as 张* with
-- the ID number masked; an individual business keyed by its operator's ID number shows it
-- masked too. The party's credit code is the linked legal person's when the record has none.
select
    penalty.decision_number::text as decision_number,
    case when penalty.party_kind = 'person' then {{ open_person_name('penalty.party_name') }}
         else penalty.party_name end as party_name,
    penalty.party_kind::text as party_kind,
    case when penalty.party_kind = 'person' then {{ open_id_number('penalty.id_number') }}
         when penalty.party_uscc is not null then penalty.party_uscc
         when penalty.operator_id_number is not null
             then {{ open_id_number('penalty.operator_id_number') }}
         else organisation.uscc end as party_code,
    case when penalty.party_kind = 'organisation' then penalty.legal_rep_name end as legal_rep_name,
    array_to_string(penalty.penalty_types, ';') as penalty_types,
    penalty.fine_yuan::numeric(18,2) as fine_yuan,
    penalty.decision_date::date as decision_date,
    penalty.authority_name::text as authority_name,
    penalty.authority_uscc::text as authority_uscc,
    penalty.publish_until::date as publish_until
from {{ ref('stg_xyb_xzcf__penalties') }} as penalty
left join {{ source('published', 'record_link') }} as link
    on link.dataset = 'xyb_xzcf' and link.record_key = penalty.record_key
    and link.entity_kind = 'legal_person'
left join {{ source('published', 'legal_person') }} as organisation
    on organisation.legal_person_id = link.entity_id
where penalty.publish_until >= (now() at time zone 'Asia/Shanghai')::date
