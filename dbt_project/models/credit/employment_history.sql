-- The repository's employees per legal person as each credit build saw them (one row per
-- build day and employer): the history the profile's 12-month change reads. The published
-- relations keep no history of their own; this keeps it from the first build on, and a full
-- refresh never wipes it.
{{ config(materialized='incremental', incremental_strategy='delete+insert',
          unique_key=['as_of_date', 'legal_person_id'], full_refresh=false) }}
select
    ({{ credit_as_of() }} at time zone 'Asia/Shanghai')::date as as_of_date,
    relation.to_id::text as legal_person_id,
    count(distinct relation.from_id)::int as employees_paying_pension
from {{ source('published', 'relation') }} as relation
where relation.relation_type = 'employee'
group by relation.to_id
