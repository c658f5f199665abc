-- Living registered residents per county, sex and age band (at Beijing today): every cell of
-- every county with a resident, zeros included. NOT suppressed here: mdm.opendata suppresses
-- the cells below 10 and their complements before anything is published (schema open).
with person as (
    select
        person.hukou_division_code as county_code,
        case person.sex_code when '1' then '男' when '2' then '女' end as sex,
        date_part('year', age((now() at time zone 'Asia/Shanghai')::date, person.birth_date))::int
            as age
    from {{ source('published', 'natural_person') }} as person
    where person.status = 'living' and person.hukou_division_code ~ '^45[0-9]{4}$'
        and person.sex_code in ('1', '2') and person.birth_date is not null
),

banded as (
    select
        county_code,
        sex,
        case when age < 15 then '00-14' when age < 30 then '15-29' when age < 45 then '30-44'
             when age < 60 then '45-59' else '60+' end as age_band
    from person
),

county as (select distinct county_code from banded),

grid as (
    select county.county_code, sex.sex, band.age_band
    from county
    cross join (values ('男'), ('女')) as sex (sex)
    cross join (values ('00-14'), ('15-29'), ('30-44'), ('45-59'), ('60+')) as band (age_band)
)

select
    grid.county_code::text as county_code,
    coalesce(division.name, grid.county_code)::text as county_name,
    grid.sex::text as sex,
    grid.age_band::text as age_band,
    count(banded.county_code)::integer as persons,
    false as suppressed
from grid
left join banded
    on banded.county_code = grid.county_code and banded.sex = grid.sex
    and banded.age_band = grid.age_band
left join (select distinct on (code) code, name from {{ ref('gb2260_guangxi') }}
           order by code, valid_to_year desc nulls first) as division
    on division.code = grid.county_code
group by grid.county_code, division.name, grid.sex, grid.age_band
