-- Found (issue 21): a person's name that contradicts the other records of a registered person
-- (gat_czrk, the authoritative source) carrying the same valid ID number, agreeing with them:
-- a character written by sound (同音字). The register's own record can carry the slip too, so
-- the name most of the person's records agree on is the authority, the register's record
-- included; a tie goes to the register (the authoritative source), and a tie the register is
-- not part of decides nothing (a data user or steward reports it). A registered former
-- name (曾用名) is no conflict; names compare by their key (simplified characters, no spaces
-- or dots), so variants of writing raise nothing.
with named as (
    select
        obs.dataset,
        obs.record_key,
        obs.delivery_id,
        obs.id_number,
        obs.name,
        obs.name_key,
        person_column.column_name
    from {{ person_records('name') }}
    where obs.id_number_valid and obs.id_agrees_with_record and obs.name_key is not null
),

registered as (
    select distinct id_number from named where dataset = 'gat_czrk'
),

former as (
    select distinct id_number, {{ function('name_key') }}(former_name) as name_key
    from {{ ref('int_person_observations') }}
    where dataset = 'gat_czrk' and id_number_valid and former_name is not null
),

votes as (
    select
        id_number,
        name_key,
        count(*) as records,
        bool_or(dataset = 'gat_czrk') as in_register,
        min(name) filter (where dataset = 'gat_czrk') as register_name,
        min(name) as any_name
    from named
    where id_number in (select id_number from registered)
    group by 1, 2
),

authority as (
    select id_number, name_key, coalesce(register_name, any_name) as name, in_register, records
    from (
        select
            votes.*,
            max(records) over (partition by id_number) as most,
            count(*) over (partition by id_number, records) as tied
        from votes
    ) as ranked
    where records = most and (tied = 1 or in_register)
),

found as (
    select
        named.dataset,
        named.record_key,
        named.column_name,
        named.delivery_id,
        'name differs by a character from the person''s other records' as problem,
        'SOURCE_CONFLICT' as request_type,
        authority.records || ' records' || case when authority.in_register
            then ', the register (gat_czrk) among them,' else '' end
            || ' name ID number ' || named.id_number || ' ' || authority.name as evidence,
        authority.name as suggested_value
    from named
    inner join authority on authority.id_number = named.id_number
    where named.name_key <> authority.name_key
      and {{ one_char_apart('named.name_key', 'authority.name_key') }}
      and not exists (
          select 1 from former
          where former.id_number = named.id_number and former.name_key = named.name_key)
),

delivered as ({{ with_delivered_value('found', person_pairs('name')) }})

select {{ problem_columns() }}
from delivered as found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
