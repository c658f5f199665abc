-- 信易贷 enterprise credit profile: one row per published legal person, each fact with the
-- dataset it comes from and that dataset's as-of date (its last delivery), and the sources
-- past their promised cycle (stale_sources: flagged, the facts kept for the reader to judge).
-- as_of_date is the day the profile was computed for (Beijing; macros/credit_as_of.sql):
-- periods count back from it.
{{ config(post_hook=["create index on {{ this }} (uscc)"]) }}  {#- unnamed: the swapped-out table holds the old name #}
with as_of as (
    select ({{ credit_as_of() }} at time zone 'Asia/Shanghai')::date as as_of_date
),

freshness as (
    select dataset, as_of_date, is_stale from {{ ref('source_freshness') }}
),

legal_person as (
    select * from {{ source('published', 'legal_person') }}
),

tax as (
    -- the taxpayer record of the legal person updated last
    select distinct on (xref.legal_person_id)
        xref.legal_person_id, taxpayer.status as taxpayer_status
    from {{ source('published', 'legal_person_xref') }} as xref
    join {{ ref('stg_swj_dwnsr__taxpayers') }} as taxpayer
        on xref.dataset = 'swj_dwnsr' and taxpayer.record_key = xref.record_key
    where xref.is_active
    order by xref.legal_person_id, taxpayer.updated_at desc nulls last, taxpayer.record_key
),

employment as (
    -- employees paying pension insurance (relation employee: the insured person's paying
    -- pension record naming the employer)
    select relation.to_id as legal_person_id, count(distinct relation.from_id) as employees
    from {{ source('published', 'relation') }} as relation
    where relation.relation_type = 'employee'
    group by relation.to_id
),

history_day as (
    -- the last build at least 12 months ago (none yet: no change to report)
    select max(history.as_of_date) as day
    from {{ ref('employment_history') }} as history
    cross join as_of
    where history.as_of_date <= as_of.as_of_date - interval '12 months'
),

employment_then as (
    select history.legal_person_id, history.employees_paying_pension as employees
    from {{ ref('employment_history') }} as history
    join history_day on history.as_of_date = history_day.day
),

link as (
    select dataset, record_key, entity_id
    from {{ source('published', 'record_link') }}
    where entity_kind = 'legal_person'
),

housing_fund as (
    -- arrears (欠缴月数): months from the paid-up-to month to the month before the extract
    select
        link.entity_id as legal_person_id,
        sum(account.contributors) as contributors,
        sum(account.monthly_contribution_yuan) as monthly_contribution_yuan,
        max(greatest(0,
            months.due_month - (extract(year from account.paid_up_to_month) * 12
                                + extract(month from account.paid_up_to_month))))::int as arrears_months
    from {{ ref('stg_gjj_dwjc__accounts') }} as account
    join link on link.dataset = 'gjj_dwjc' and link.record_key = account.record_key
    join {{ ref('stg_ops__delivery') }} as delivery
        on delivery.dataset = 'gjj_dwjc' and delivery.delivery_id = account.delivery_id
    cross join lateral (
        -- the month before the extract, counted in months
        select extract(year from delivery.extract_time at time zone 'Asia/Shanghai') * 12
               + extract(month from delivery.extract_time at time zone 'Asia/Shanghai') - 1
            as due_month
    ) as months
    group by link.entity_id
),

bill as (
    select link.entity_id as legal_person_id, bill.*
    from {{ ref('stg_sdq_jfxx__bills') }} as bill
    join link on link.dataset = 'sdq_jfxx' and link.record_key = bill.record_key
    cross join as_of
    where bill.bill_month >= date_trunc('month', as_of.as_of_date) - interval '12 months'
),

utilities as (
    select
        legal_person_id,
        sum(amount_due_yuan) filter (where energy_type = 'water') as water_billed_12m_yuan,
        sum(amount_paid_yuan) filter (where energy_type = 'water') as water_paid_12m_yuan,
        sum(amount_due_yuan) filter (where energy_type = 'electricity')
            as electricity_billed_12m_yuan,
        sum(amount_paid_yuan) filter (where energy_type = 'electricity')
            as electricity_paid_12m_yuan,
        sum(amount_due_yuan) filter (where energy_type = 'gas') as gas_billed_12m_yuan,
        sum(amount_paid_yuan) filter (where energy_type = 'gas') as gas_paid_12m_yuan,
        count(distinct bill_month) filter (where arrears_yuan > 0) as arrears_months
    from bill
    group by legal_person_id
),

utility_arrears as (
    -- arrears outstanding: each account's last bill
    select legal_person_id, sum(arrears_yuan) as arrears_yuan
    from (
        select distinct on (account_number) legal_person_id, arrears_yuan
        from bill order by account_number, bill_month desc
    ) as last_bill
    group by legal_person_id
),

penalty as (
    -- within the last 36 months, still within their publication period (a repaired one is
    -- deleted by the credit office, so not in the current records)
    select link.entity_id as legal_person_id, penalty.record_key, penalty.fine_yuan,
           penalty.penalty_types
    from {{ ref('stg_xyb_xzcf__penalties') }} as penalty
    join link on link.dataset = 'xyb_xzcf' and link.record_key = penalty.record_key
    cross join as_of
    where penalty.publish_until >= as_of.as_of_date
      and penalty.decision_date >= as_of.as_of_date - interval '36 months'
),

penalties as (
    select legal_person_id, count(*) as penalties, coalesce(sum(fine_yuan), 0) as fine_yuan
    from penalty group by legal_person_id
),

penalty_categories as (
    select legal_person_id,
           jsonb_object_agg(category, jsonb_build_object('count', n, 'fine_yuan', fine))
               as by_category
    from (
        select legal_person_id, category, count(*) as n, coalesce(sum(fine_yuan), 0) as fine
        from penalty cross join lateral unnest(penalty_types) as category
        group by legal_person_id, category
    ) as per_category
    group by legal_person_id
),

debtor_link as (
    -- the dishonest list now: a removed debtor is pulled as a delete, gone from the records
    select link.entity_kind, link.entity_id
    from {{ source('published', 'record_link') }} as link
    join {{ ref('stg_fy_sxbzxr__debtors') }} as debtor
        on link.dataset = 'fy_sxbzxr' and debtor.record_key = link.record_key
)

select
    legal_person.legal_person_id::text as legal_person_id,
    legal_person.uscc::text as uscc,
    legal_person.name::text as name,
    legal_person.org_kind::text as org_kind,
    as_of.as_of_date::date as as_of_date,
    -- JBXX registration
    legal_person.status::text as registration_status,
    round((as_of.as_of_date - legal_person.establishment_date) / 365.25, 1)::numeric(6, 1)
        as years_established,
    legal_person.registered_capital_cny::numeric(18, 2) as registered_capital_cny,
    legal_person.industry_code::text as industry_code,
    (legal_person.org_kind = 'branch')::boolean as is_branch,
    legal_person.status_source::text as registration_source,
    registration_freshness.as_of_date::date as registration_as_of,
    -- NSXX tax
    tax.taxpayer_status::text as taxpayer_status,
    legal_person.tax_credit_rating::text as tax_credit_rating,
    legal_person.tax_credit_rating_year::int as tax_credit_rating_year,
    'swj_dwnsr'::text as tax_source,
    tax_freshness.as_of_date::date as tax_as_of,
    -- SBXX social insurance
    coalesce(employment.employees, 0)::int as employees_paying_pension,
    (coalesce(employment.employees, 0)
     - case when history_day.day is not null then coalesce(employment_then.employees, 0) end
    )::int as employees_change_12m,
    history_day.day::date as employees_compared_with,
    'rst_cbry'::text as social_insurance_source,
    social_freshness.as_of_date::date as social_insurance_as_of,
    -- GJJ housing fund
    housing_fund.contributors::int as housing_fund_contributors,
    housing_fund.monthly_contribution_yuan::numeric(14, 2) as housing_fund_monthly_yuan,
    housing_fund.arrears_months::int as housing_fund_arrears_months,
    'gjj_dwjc'::text as housing_fund_source,
    housing_freshness.as_of_date::date as housing_fund_as_of,
    -- SDQ utilities
    utilities.water_billed_12m_yuan::numeric(14, 2) as water_billed_12m_yuan,
    utilities.water_paid_12m_yuan::numeric(14, 2) as water_paid_12m_yuan,
    utilities.electricity_billed_12m_yuan::numeric(14, 2) as electricity_billed_12m_yuan,
    utilities.electricity_paid_12m_yuan::numeric(14, 2) as electricity_paid_12m_yuan,
    utilities.gas_billed_12m_yuan::numeric(14, 2) as gas_billed_12m_yuan,
    utilities.gas_paid_12m_yuan::numeric(14, 2) as gas_paid_12m_yuan,
    utility_arrears.arrears_yuan::numeric(14, 2) as utility_arrears_yuan,
    utilities.arrears_months::int as utility_arrears_months,
    'sdq_jfxx'::text as utilities_source,
    utilities_freshness.as_of_date::date as utilities_as_of,
    -- SFXX penalties and courts
    coalesce(penalties.penalties, 0)::int as penalties_36m_count,
    coalesce(penalties.fine_yuan, 0)::numeric(16, 2) as penalties_36m_fine_yuan,
    coalesce(penalty_categories.by_category, '{}'::jsonb) as penalties_36m_by_category,
    'xyb_xzcf'::text as penalties_source,
    penalties_freshness.as_of_date::date as penalties_as_of,
    exists (select 1 from debtor_link
            where debtor_link.entity_kind = 'legal_person'
              and debtor_link.entity_id = legal_person.legal_person_id)::boolean
        as dishonest_enterprise,
    exists (select 1 from debtor_link
            where debtor_link.entity_kind = 'person'
              and debtor_link.entity_id = legal_person.legal_rep_person_id)::boolean
        as dishonest_legal_rep,
    'fy_sxbzxr'::text as courts_source,
    courts_freshness.as_of_date::date as courts_as_of,
    array_remove(array[
        case when registration_freshness.is_stale then legal_person.status_source end,
        case when tax_freshness.is_stale then 'swj_dwnsr' end,
        case when social_freshness.is_stale then 'rst_cbry' end,
        case when housing_fund.legal_person_id is not null and housing_freshness.is_stale
             then 'gjj_dwjc' end,
        case when utilities.legal_person_id is not null and utilities_freshness.is_stale
             then 'sdq_jfxx' end,
        case when penalties_freshness.is_stale then 'xyb_xzcf' end,
        case when courts_freshness.is_stale then 'fy_sxbzxr' end
    ], null)::text[] as stale_sources
from legal_person
cross join as_of
left join tax using (legal_person_id)
left join employment using (legal_person_id)
cross join history_day
left join employment_then using (legal_person_id)
left join housing_fund using (legal_person_id)
left join utilities using (legal_person_id)
left join utility_arrears using (legal_person_id)
left join penalties using (legal_person_id)
left join penalty_categories using (legal_person_id)
left join freshness as registration_freshness
    on registration_freshness.dataset = legal_person.status_source
left join freshness as tax_freshness on tax_freshness.dataset = 'swj_dwnsr'
left join freshness as social_freshness on social_freshness.dataset = 'rst_cbry'
left join freshness as housing_freshness on housing_freshness.dataset = 'gjj_dwjc'
left join freshness as utilities_freshness on utilities_freshness.dataset = 'sdq_jfxx'
left join freshness as penalties_freshness on penalties_freshness.dataset = 'xyb_xzcf'
left join freshness as courts_freshness on courts_freshness.dataset = 'fy_sxbzxr'
