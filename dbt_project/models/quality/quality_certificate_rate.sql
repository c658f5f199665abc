-- The structured aggregation rate (结构化数据汇聚率) per certificate type, prefecture and
-- quarter, against the provincial target of 80% (standard 4.13): of the certificates the
-- business records say exist (expected), those in the library, valid (the status the record
-- gives), and structured (valid and every surface field filled, well formed and agreeing).
-- Prefecture 450000 is the type's whole province. main_reasons: the commonest reasons a
-- certificate is not structured, with counts. The quarter is the one of the latest library
-- delivery (Beijing time); each build rewrites its quarter and keeps the earlier ones.
{{ config(materialized='incremental', unique_key='quarter', incremental_strategy='delete+insert') }}
-- depends_on: {{ ref('int_certificate_outcome') }}
-- depends_on: {{ ref('int_certificate_matches') }}
{%- set target = 0.8 %}
{#- Before the first build of the repositories (a scorecard of deliveries alone) there is no
    certificate to count: no rows, not a failed scorecard. -#}
{%- set built = execute and load_relation(ref('int_certificate_outcome')) is not none
                and load_relation(ref('int_certificate_matches')) is not none %}

with as_of as (
    select coalesce(max(quarter), to_char(now() at time zone 'Asia/Shanghai', 'YYYY"Q"Q')) as quarter
    from {{ ref('quality_delivery_metrics') }}
    where dataset = 'dzzz_zzxx' and loadable = 1
),

outcome as (
    {% if built %}
    select certificate_type, coalesce(prefecture_code, 'unknown') as prefecture_code, in_library,
           is_valid, is_structured, reason
    from {{ ref('int_certificate_outcome') }}
    union all
    select certificate_type, '450000', in_library, is_valid, is_structured, reason
    from {{ ref('int_certificate_outcome') }}
    {% else %}
    select null::text as certificate_type, null::text as prefecture_code, null::boolean as in_library,
           null::boolean as is_valid, null::boolean as is_structured, null::text as reason
    where false
    {% endif %}
),

reason_count as (
    select certificate_type, prefecture_code, reason, count(*) as certificates,
           row_number() over (partition by certificate_type, prefecture_code
                              order by count(*) desc, reason) as place
    from outcome
    where reason is not null
    group by certificate_type, prefecture_code, reason
),

rate as (
    select
        certificate_type,
        prefecture_code,
        count(*) as expected,
        count(*) filter (where in_library) as in_library,
        count(*) filter (where is_valid) as valid,
        count(*) filter (where is_structured) as structured
    from outcome
    group by certificate_type, prefecture_code
),

orphan as (
    select certificate_type, count(*) as orphans
    {% if built %}
    from {{ ref('int_certificate_matches') }}
    where match_method = 'orphan'
    {% else %}
    from (select null::text as certificate_type where false) as nothing
    {% endif %}
    group by certificate_type
)

select
    as_of.quarter,
    rate.certificate_type,
    certificate_type.name as certificate_name,
    rate.prefecture_code,
    certificate_type.business_dataset,
    catalogue.department,
    rate.expected,
    rate.in_library,
    rate.valid,
    rate.structured,
    round(rate.structured::numeric / nullif(rate.expected, 0), 4) as structured_rate,
    {{ target }} as target_rate,
    rate.structured >= {{ target }} * rate.expected as meets_target,
    case when rate.prefecture_code = '450000' then coalesce(orphan.orphans, 0) end as orphans,
    (select string_agg(reason_count.reason || ' (' || reason_count.certificates || ')', '; '
                       order by reason_count.place)
     from reason_count
     where reason_count.certificate_type = rate.certificate_type
       and reason_count.prefecture_code = rate.prefecture_code and reason_count.place <= 3)
        as main_reasons
from rate
cross join as_of
left join {{ ref('certificate_type') }} as certificate_type on certificate_type.code = rate.certificate_type
left join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = certificate_type.business_dataset
left join orphan on orphan.certificate_type = rate.certificate_type
