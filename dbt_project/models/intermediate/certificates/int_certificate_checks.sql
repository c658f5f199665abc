-- The structured check of every library certificate matched to a business record: per
-- surface field of its type (seed certificate_surface_field) whether it is missing (absent
-- or empty), malformed (an identifier with a wrong check character, no date, no number) or
-- disagrees with every value the business record and its golden records allow
-- (int_certificate_expected.reference); a certificate with no surface data at all is
-- layout_only (one row, field zmxx); a status other than the business record's (annulled
-- while the registration is live, or valid after it ended) is a row for field zzzt. One
-- row per problem: a structured certificate has none. With the certificate's type, the
-- issuing department and the certificate it duplicates (certificate_check_failures).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['record_key']}],
    pre_hook="{{ delete_certificate_check_batch() }}"
) }}
-- Incremental (macros/certificate_batch.sql): only the certificates whose check inputs
-- changed since int_certificate_check_state are checked again.
with {% if certificate_checks_incremental() %}{{ certificate_check_batch_ctes() }},

{% endif %}certificate as (
    select
        library.record_key,
        library.certificate_type,
        library.status,
        case when pg_input_is_valid(library.surface_fields, 'jsonb')
                  and jsonb_typeof(library.surface_fields::jsonb) = 'object'
             then library.surface_fields::jsonb end as surface,
        matched.duplicate_of,
        expected.reference,
        expected.in_force,
        expected.department
    from {{ ref('stg_dzzz_zzxx__certificates') }} as library
    join {{ ref('int_certificate_matches') }} as matched using (record_key)
    join {{ ref('int_certificate_expected') }} as expected
        on expected.certificate_type = matched.certificate_type
        and expected.holder_record_key = matched.holder_record_key
    {%- if certificate_checks_incremental() %}
    where library.record_key in (select record_key from check_batch)
    {%- endif %}
),

surface_value as (
    select
        certificate.record_key,
        field.field,
        field.kind,
        certificate.surface ->> field.field as delivered_value,
        certificate.reference -> field.field as reference
    from certificate
    join {{ ref('certificate_surface_field') }} as field
        on field.certificate_type = certificate.certificate_type
    where certificate.surface is not null and certificate.surface <> '{}'::jsonb
      and (field.required or jsonb_array_length(certificate.reference -> field.field) > 0)
),

{%- set kinds = ['name', 'id', 'code', 'date', 'amount', 'address', 'sex', 'division', 'licence'] %}
-- each value's key computed once (the std functions are the cost of this model;
-- materialized: inlined, the planner would compute it again in every test of `judged`)
standardised as materialized (
    select
        surface_value.*,
        case surface_value.kind
            {%- for kind in kinds %}
            when '{{ kind }}' then {{ certificate_value(kind, 'surface_value.delivered_value') }}
            {%- endfor %}
        end as value_key
    from surface_value
    where nullif(btrim(surface_value.delivered_value), '') is not null
),

judged as (
    select
        record_key, field, delivered_value, reference, 'missing' as problem
    from surface_value
    where nullif(btrim(delivered_value), '') is null

    union all
    select
        record_key, field, delivered_value, reference,
        case
            {%- for kind in kinds %}
            when kind = '{{ kind }}' and {{ certificate_key_malformed(kind, 'value_key') }} then 'malformed'
            {%- endfor %}
            when jsonb_array_length(reference) > 0 and not reference ? value_key then 'disagrees'
        end
    from standardised
),

problem as (
    select record_key, field, problem, delivered_value, reference ->> 0 as expected_value
    from judged
    where problem is not null

    union all
    select record_key, 'zmxx', 'layout_only', null, null
    from certificate
    where certificate.surface is null or certificate.surface = '{}'::jsonb

    union all
    select record_key, 'zzzt', 'status_disagrees', status,
           case when in_force then 'valid' else 'annulled' end
    from certificate
    where status is distinct from case when in_force then 'valid' else 'annulled' end
)

select
    problem.*,
    -- the correction request a problem becomes (standard 6.1)
    case when problem.problem in ('missing', 'layout_only') then 'MISSING_REQUIRED'
         else 'SOURCE_CONFLICT' end as request_type,
    certificate.certificate_type,
    certificate.department,
    certificate.duplicate_of
from problem
join certificate using (record_key)
