-- Each library certificate (dzzz_zzxx) with the expected certificate it is
-- (int_certificate_expected), and how it was matched, in order:
--   ywlsh          the business record it names (ywlsh) of its type's dataset; of a
--                  registration with two certificates, the one whose holder it is (or the
--                  one whose holder is not known to be another: no code to compare);
--   holder_date    without (a usable) ywlsh: same type, the same holder (the entity its
--                  holder code links to, record_link; or its code; or, where either side
--                  has no code, its name, or the certificate number where the business
--                  record names no holder) and the same issue date;
--   holder_number  the same, with the same certificate number instead of the date.
-- Exactly one candidate decides; none or several leave the certificate an orphan (kept,
-- counted, never forced onto a record). A second certificate of one expected certificate
-- (aggregated twice under another zzbs) is a duplicate of the first (the one matched by
-- ywlsh, else updated first, else the smaller zzbs).
with library as (
    select
        certificate.record_key,
        certificate.certificate_type,
        certificate.business_record_key,
        certificate.holder_name_key,
        coalesce(certificate.holder_id_number, certificate.holder_passport_number,
                 certificate.holder_uscc) as holder_code,
        certificate.issue_date,
        upper(regexp_replace(certificate.certificate_number, '\s', '', 'g')) as number_key,
        certificate.updated_at,
        link.entity_id as linked_id
    from {{ ref('stg_dzzz_zzxx__certificates') }} as certificate
    left join {{ source('resolve', 'record_link') }} as link
        on link.dataset = 'dzzz_zzxx' and link.record_key = certificate.record_key
),

expected as (
    select
        expected.*,
        -- a golden record's identifier with a wrong check character read with the right one
        -- (the record's slip, raised against it; the certificate printing the right one is
        -- still its certificate)
        coalesce({{ certificate_reference_usable('id', 'person.id_number') }},
                 {{ certificate_reference_usable('code', 'org.uscc') }}) as holder_code
    from {{ ref('int_certificate_expected') }} as expected
    left join {{ ref('natural_person') }} as person
        on expected.holder_kind = 'person' and person.person_id = expected.holder_id
    left join {{ ref('legal_person') }} as org
        on expected.holder_kind = 'legal_person' and org.legal_person_id = expected.holder_id
),

-- the expected certificates of the same type a library certificate may be: the record its
-- ywlsh names, or the same holder by entity, code or name (equi-joins: indexes and hashes)
candidate as (
    {% for library_column, expected_column in [
        ('business_record_key', 'business_record_key'), ('linked_id', 'holder_id'),
        ('holder_code', 'holder_code'), ('holder_name_key', 'holder_name_key'),
        ('number_key', 'number_key')] %}
    select library.record_key, expected.holder_record_key
    from library
    join expected
        on expected.certificate_type = library.certificate_type
        and expected.{{ expected_column }} = library.{{ library_column }}
    {{ "union" if not loop.last }}
    {% endfor %}
),

-- how well a library certificate's holder agrees with an expected one's: 2 the same entity
-- or code, 1 the same name where one side has no code (a newborn; a business record whose
-- holder resolved to a person without a number of its own: a relative's number typed into
-- it), or no code on one side, no name in the business record and the same certificate
-- number (a birth record whose newborn is not named yet), 0 unknown (one side has no code,
-- the names differ), -1 another (both coded)
holder_agreement as (
    select
        library.record_key,
        expected.holder_record_key,
        case
            when library.linked_id = expected.holder_id or library.holder_code = expected.holder_code then 2
            when (library.holder_code is null or expected.holder_code is null)
                 and library.holder_name_key = expected.holder_name_key then 1
            when (library.holder_code is null or expected.holder_code is null)
                 and expected.holder_name_key is null
                 and library.number_key = expected.number_key then 1
            when library.holder_code is null or expected.holder_code is null then 0
            else -1
        end as agreement,
        coalesce(library.issue_date = expected.issue_date, false) as same_date,
        coalesce(library.number_key = expected.number_key, false) as same_number,
        coalesce(library.business_record_key = expected.business_record_key, false) as same_record
    from candidate
    join library using (record_key)
    join expected
        on expected.certificate_type = library.certificate_type
        and expected.holder_record_key = candidate.holder_record_key
),

by_ywlsh as (
    -- the best-agreeing holder of the record it names, when one is best
    select record_key, holder_record_key, 'ywlsh' as match_method
    from (
        select
            record_key, holder_record_key, agreement,
            rank() over (partition by record_key order by agreement desc) as place,
            count(*) over (partition by record_key, agreement) as tied
        from holder_agreement
        where same_record
    ) as ranked
    where place = 1 and tied = 1
),

by_holder as (
    -- the same holder (the best agreement there is) on the same date or number, when one is
    select record_key, min(holder_record_key) as holder_record_key,
           case when bool_and(same_date) then 'holder_date' else 'holder_number' end as match_method
    from (
        select *, rank() over (partition by record_key order by agreement desc) as place
        from holder_agreement
        where agreement > 0 and (same_date or same_number)
          -- not exists, not `not in`: an anti-join, where `not in` is a subplan scanned
          -- per row once the keys outgrow work_mem
          and not exists (select 1 from by_ywlsh
                          where by_ywlsh.record_key = holder_agreement.record_key)
    ) as ranked
    where place = 1
    group by record_key
    having count(*) = 1
),

matched as (
    select * from by_ywlsh
    union all
    select * from by_holder
),

ranked as (
    select
        library.record_key,
        library.certificate_type,
        library.linked_id,
        matched.holder_record_key,
        coalesce(matched.match_method, 'orphan') as match_method,
        first_value(library.record_key) over (
            partition by library.certificate_type, matched.holder_record_key
            order by (matched.match_method = 'ywlsh') desc, library.updated_at, library.record_key
        ) as first_record_key
    from library
    left join matched using (record_key)
)

select
    ranked.record_key,
    ranked.certificate_type,
    ranked.holder_record_key,
    expected.business_dataset,
    expected.business_record_key,
    ranked.match_method,
    case when ranked.holder_record_key is not null and ranked.first_record_key <> ranked.record_key
         then ranked.first_record_key end as duplicate_of,
    coalesce(expected.holder_kind, case when link.entity_kind = 'legal_person' then 'legal_person'
                                        when link.entity_kind = 'person' then 'person' end) as holder_kind,
    coalesce(expected.holder_id, ranked.linked_id) as holder_id
from ranked
left join {{ ref('int_certificate_expected') }} as expected
    on expected.certificate_type = ranked.certificate_type
    and expected.holder_record_key = ranked.holder_record_key
left join {{ source('resolve', 'record_link') }} as link
    on link.dataset = 'dzzz_zzxx' and link.record_key = ranked.record_key
