-- What analysts see of a person: a pseudonymous key instead of ids, the ID number and mobile
-- masked (0011_analyst_reidentification.sql says how far), the birth date reduced to the year, no street address. Grants: dbt_project.yml.
{{ config(alias='natural_person', post_hook="{{ comment_like_published('natural_person') }}") }}

select
    {{ analyst_person_key('pseudonym.pseudonym', 'person.person_id') }} as person_key,
    access.mask_id_number(person.id_number) as id_number_masked,
    person.name,
    person.former_names,
    person.sex_code,
    person.ethnicity_code,
    extract(year from person.birth_date)::int as birth_year,
    person.hukou_division_code,
    access.mask_phone(person.mobile) as mobile_masked,
    person.status,
    extract(year from person.death_date)::int as death_year,
    person.source_count,
    person.last_changed,
    person.name_source,
    person.id_number_source,
    person.birth_date_source,
    person.status_source
from {{ source('published', 'natural_person') }} as person
left join {{ source('access', 'person_pseudonym') }} as pseudonym
    on pseudonym.person_id = person.person_id
{{ analyst_key_salt_join() }}
