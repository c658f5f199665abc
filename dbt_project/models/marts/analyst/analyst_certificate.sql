-- Certificates for analysts: a person's certificate by the holder's pseudonymous key, never
-- the person id, name or certificate number (a marriage certificate's number, a lawyer's
-- licence number name the person); an organisation's with its legal_person_id, name and
-- number (public registrations). Counting and rates by type, prefecture and office.
{{ config(alias='certificate', post_hook="{{ comment_like_published('certificate') }}") }}

select
    certificate.certificate_id,
    certificate.certificate_type,
    certificate.holder_kind,
    case when certificate.holder_person_id is not null
         then {{ analyst_person_key('pseudonym.pseudonym', 'certificate.holder_person_id') }}
    end as holder_person_key,
    certificate.holder_legal_person_id,
    case when certificate.holder_legal_person_id is not null then certificate.holder_name end
        as holder_name,
    case when certificate.holder_legal_person_id is not null then certificate.certificate_number end
        as certificate_number,
    certificate.issuer_name,
    certificate.issue_date,
    certificate.valid_until,
    certificate.is_permanent,
    certificate.status,
    certificate.prefecture_code,
    certificate.business_dataset,
    certificate.match_method,
    certificate.duplicate_of,
    certificate.is_structured,
    certificate.structured_problems,
    certificate.correction_department,
    certificate.correction_request_type
from {{ source('published', 'certificate') }} as certificate
left join {{ source('access', 'person_pseudonym') }} as pseudonym
    on pseudonym.person_id = certificate.holder_person_id
{{ analyst_key_salt_join() }}
