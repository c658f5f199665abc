-- The employer each insured person's record names, resolved to a legal person (after entity
-- resolution): by its valid credit code; by the one valid code that a code with a wrong check
-- character shares its first 17 characters with; else by its name (the registered name, a
-- name any source gives the organisation, or either without the company form), when exactly
-- one legal person has that name. An employer number (DWBH) is one employer for all its
-- employees: the best-resolved record of the number decides for all its records, so an
-- employee whose record names the employer by name alone still gets it.
with insured as (
    select
        record_key,
        coalesce(employer_number, 'record:' || record_key) as employer_reference,
        employer_uscc,
        employer_name
    from {{ ref('stg_rst_cbry__insured') }}
    where employer_uscc is not null or employer_name is not null
),

reference as (
    -- each employer reference once, standardised once: the joins below run per employer,
    -- not per employee (the std functions per employee row were most of the cost)
    select
        employer_reference,
        employer_uscc,
        {{ function('is_valid_uscc') }}(employer_uscc) as employer_uscc_valid,
        {{ function('name_key') }}(employer_name) as employer_name_key,
        {{ function('org_name_key') }}(employer_name) as employer_short_key
    from (select distinct employer_reference, employer_uscc, employer_name from insured) as distinct_reference
),

organisation as (
    select resolved.legal_person_id, observation.uscc, observation.uscc_valid,
           observation.name_key
    from {{ ref('int_organisation_observations') }} as observation
    join {{ source('resolve', 'legal_person_record') }} as resolved
        on resolved.dataset = observation.dataset and resolved.record_key = observation.record_key
),

named as (
    -- a name that belongs to exactly one legal person
    select name_key, min(legal_person_id) as legal_person_id
    from (
        select name_key, legal_person_id from organisation where name_key is not null
        union
        select {{ function('strip_company_form') }}(name_key), legal_person_id
        from organisation where name_key is not null
    ) as names
    where name_key is not null
    group by name_key
    having count(distinct legal_person_id) = 1
),

found as (
    -- separate equi-joins (a join on "in (a, b)" cannot hash: a nested loop per employee)
    select reference.employer_reference, organisation.legal_person_id, 1 as rank,
           'credit_code' as method
    from reference
    join organisation on organisation.uscc = reference.employer_uscc and organisation.uscc_valid
    where reference.employer_uscc_valid

    union
    select reference.employer_reference, organisation.legal_person_id, 2,
           'credit_code_check_corrected'
    from reference
    join organisation
        on left(organisation.uscc, 17) = left(reference.employer_uscc, 17)
        and organisation.uscc_valid
    where not reference.employer_uscc_valid and length(reference.employer_uscc) = 18

    union
    select reference.employer_reference, named.legal_person_id, 3, 'name'
    from reference
    join named on named.name_key = reference.employer_name_key

    union
    select reference.employer_reference, named.legal_person_id, 3, 'name'
    from reference
    join named on named.name_key = reference.employer_short_key
),

best as (
    -- the best rank of each employer reference, when it names one legal person
    select employer_reference, min(legal_person_id) as legal_person_id, min(method) as method
    from (
        select *, min(rank) over (partition by employer_reference) as best_rank from found
    ) as ranked
    where rank = best_rank
    group by employer_reference
    having count(distinct legal_person_id) = 1
)

select insured.record_key, best.legal_person_id, best.method
from insured
join best using (employer_reference)
