-- The credit evaluation line by line: every rule of the current rules version (seed
-- credit_score_rules) against the fact it reads, whether it applies, its points and reason.
-- A fact without data applies no rule; a fact from a stale source says so.
{{ config(post_hook=["create index on {{ this }} (legal_person_id)"]) }}  {#- unnamed: the swapped-out table holds the old name #}
with rules as (
    select * from {{ ref('credit_score_rules') }}
    where rules_version = (select max(rules_version) from {{ ref('credit_score_rules') }})
),

fact as (
    select
        profile.legal_person_id,
        facts.fact,
        facts.value_text,
        facts.value_number,
        facts.source,
        facts.source = any(profile.stale_sources) as source_stale
    from {{ ref('enterprise_profile') }} as profile
    cross join lateral (values
        ('registration_status', profile.registration_status, null::numeric, profile.registration_source),
        ('years_established', profile.years_established::text, profile.years_established, profile.registration_source),
        ('tax_credit_rating', profile.tax_credit_rating, null, profile.tax_source),
        ('employees_paying_pension', profile.employees_paying_pension::text, profile.employees_paying_pension, profile.social_insurance_source),
        ('housing_fund_arrears_months', profile.housing_fund_arrears_months::text, profile.housing_fund_arrears_months, profile.housing_fund_source),
        ('utility_arrears_yuan', profile.utility_arrears_yuan::text, profile.utility_arrears_yuan, profile.utilities_source),
        ('utility_arrears_months', profile.utility_arrears_months::text, profile.utility_arrears_months, profile.utilities_source),
        ('penalties_36m_count', profile.penalties_36m_count::text, profile.penalties_36m_count, profile.penalties_source),
        ('penalties_36m_fine_yuan', profile.penalties_36m_fine_yuan::text, profile.penalties_36m_fine_yuan, profile.penalties_source),
        ('dishonest_enterprise', profile.dishonest_enterprise::text, profile.dishonest_enterprise::int, profile.courts_source),
        ('dishonest_legal_rep', profile.dishonest_legal_rep::text, profile.dishonest_legal_rep::int, profile.courts_source)
    ) as facts (fact, value_text, value_number, source)
)

select
    fact.legal_person_id::text as legal_person_id,
    rules.rules_version::text as rules_version,
    rules.rule_id::text as rule_id,
    rules.fact::text as fact,
    fact.value_text::text as value,
    fact.source::text as source,
    coalesce(fact.source_stale, false)::boolean as source_stale,
    coalesce(case rules.operator
        when 'in' then fact.value_text = any(string_to_array(rules.threshold::text, ';'))
        when '=' then fact.value_number = rules.threshold::numeric
        when '>' then fact.value_number > rules.threshold::numeric
        when '>=' then fact.value_number >= rules.threshold::numeric
        when '<' then fact.value_number < rules.threshold::numeric
        when '<=' then fact.value_number <= rules.threshold::numeric
    end, false)::boolean as applies,
    rules.operator::text as operator,
    rules.threshold::text as threshold,
    rules.points::int as points,
    rules.reason::text as reason
from rules
join fact on fact.fact = rules.fact
