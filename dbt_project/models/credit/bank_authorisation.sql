-- Enterprises' authorisations of banks (xyd_sq) linked to their legal person: which bank may
-- read which scopes of whose profile until when. expires_at is the end of the valid-until
-- day in Beijing: the banks' views compare it with the clock at every read.
{{ config(post_hook=["create index on {{ this }} (bank_uscc)"]) }}  {#- unnamed: the swapped-out table holds the old name #}
select
    authorisation.record_key::text as authorisation_id,
    link.entity_id::text as legal_person_id,
    authorisation.uscc::text as uscc,
    authorisation.bank_uscc::text as bank_uscc,
    authorisation.bank_name::text as bank_name,
    authorisation.scopes::text[] as scopes,
    authorisation.granted_date::date as granted_date,
    authorisation.valid_until::date as valid_until,
    ((authorisation.valid_until + 1)::timestamp at time zone 'Asia/Shanghai')::timestamptz
        as expires_at,
    authorisation.status::text as status
from {{ ref('stg_xyd_sq__authorisations') }} as authorisation
join {{ source('published', 'record_link') }} as link
    on link.dataset = 'xyd_sq' and link.record_key = authorisation.record_key
    and link.entity_kind = 'legal_person'
where authorisation.bank_uscc is not null
