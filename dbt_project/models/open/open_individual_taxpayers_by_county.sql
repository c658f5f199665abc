-- Living registered residents registered as individual taxpayers (a live swj_grnsr record)
-- per county and sex. NOT suppressed here: mdm.opendata suppresses before publishing.
with taxpayer as (
    select distinct
        person.person_id,
        person.hukou_division_code as county_code,
        case person.sex_code when '1' then '男' when '2' then '女' end as sex
    from {{ source('published', 'natural_person') }} as person
    inner join {{ source('published', 'natural_person_xref') }} as xref
        on xref.person_id = person.person_id and xref.dataset = 'swj_grnsr' and xref.is_active
    where person.status = 'living' and person.hukou_division_code ~ '^45[0-9]{4}$'
        and person.sex_code in ('1', '2')
),

grid as (
    select county.county_code, sex.sex
    from (select distinct county_code from taxpayer) as county
    cross join (values ('男'), ('女')) as sex (sex)
)

select
    grid.county_code::text as county_code,
    coalesce(division.name, grid.county_code)::text as county_name,
    grid.sex::text as sex,
    count(taxpayer.person_id)::integer as persons,
    false as suppressed
from grid
left join taxpayer on taxpayer.county_code = grid.county_code and taxpayer.sex = grid.sex
left join (select distinct on (code) code, name from {{ ref('gb2260_guangxi') }}
           order by code, valid_to_year desc nulls first) as division
    on division.code = grid.county_code
group by grid.county_code, division.name, grid.sex
