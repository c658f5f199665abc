-- Found (issue 21): unified social credit codes (GB 32100) with a wrong check character, in
-- the organisation sources and as an insured person's employer. Suggested: the one published
-- legal person whose valid code has the same first seventeen characters.
{%- set org_columns = [('scjgj_qydj', 'uniscid'), ('bb_sydwdj', 'tyshxydm'),
    ('mzt_shzz', 'tyshxydm'), ('swj_dwnsr', 'nsrsbh'), ('sft_jgdj', 'tyshxydm')] %}
with coded as (
    select obs.dataset, obs.record_key, obs.delivery_id, obs.uscc as code, column_map.column_name
    from {{ ref('int_organisation_observations') }} as obs
    inner join (values
        {%- for ds, col in org_columns %}
        ('{{ ds }}', '{{ col }}'){{ "," if not loop.last }}
        {%- endfor %}) as column_map (dataset, column_name)
        on column_map.dataset = obs.dataset
    where not coalesce(obs.uscc_valid, false)
    union all
    select 'rst_cbry', record_key, delivery_id, employer_uscc, 'dwtyxydm'
    from {{ ref('stg_rst_cbry__insured') }}
    where employer_uscc is not null
      and not {{ function('is_valid_uscc') }}(employer_uscc)
),

candidate as (
    select left(uscc, 17) as body, min(uscc) as uscc, count(distinct uscc) as codes
    from {{ ref('legal_person') }}
    where {{ function('is_valid_uscc') }}(uscc)
    group by 1
),

found as (
    select
        coded.dataset,
        coded.record_key,
        coded.column_name,
        coded.delivery_id,
        'credit code fails its check character (GB 32100)' as problem,
        'CODE_CHECK' as request_type,
        'check character ' || right(coded.code, 1) || ', computed '
            || {{ function('uscc_check_char') }}(left(coded.code, 17)) as evidence,
        case when candidate.codes = 1 then candidate.uscc end as suggested_value
    from coded
    left join candidate on candidate.body = left(coded.code, 17)
    where coded.code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'
),

delivered as ({{ with_delivered_value('found', org_columns + [('rst_cbry', 'dwtyxydm')]) }})

select {{ problem_columns() }}
from delivered as found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
