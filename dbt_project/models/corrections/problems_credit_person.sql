-- Found (issue 21): the persons named by credit records (xyb_xzcf: a penalised natural person;
-- fy_sxbzxr: a dishonest debtor who is a person), checked as the person sources are: an ID
-- number failing its check (ID_CHECK), a number the register holds under another name
-- (ID_OTHER_PERSON: a relative's number), and a name differing by a character from the name
-- the person's records agree on (SOURCE_CONFLICT, 同音字). Values compare standardised: format
-- variants raise nothing.
{%- set credit_columns = [('xyb_xzcf', 'zjhm', 'xdrmc'), ('fy_sxbzxr', 'zjhm', 'bzxrmc')] %}
with credit_person as (
    select 'xyb_xzcf' as dataset, record_key, delivery_id, id_number, id_number_valid,
           party_name as name, party_name_key as name_key
    from {{ ref('stg_xyb_xzcf__penalties') }}
    where party_kind = 'person' and id_type = '111' and id_number is not null
    union all
    select 'fy_sxbzxr', record_key, delivery_id, id_number, id_number_valid,
           debtor_name, debtor_name_key
    from {{ ref('stg_fy_sxbzxr__debtors') }}
    where debtor_kind = 'person' and id_number is not null
),

register as (
    select id_number, name_key, {{ function('name_key') }}(former_name) as former_name_key
    from {{ ref('int_person_observations') }}
    where dataset = 'gat_czrk' and id_number_valid
),

-- the name the person sources' records carrying a registered number agree on (a tie: the
-- register's)
votes as (
    select id_number, name_key, count(*) as records, bool_or(dataset = 'gat_czrk') as in_register,
           min(name) filter (where dataset = 'gat_czrk') as register_name, min(name) as any_name
    from {{ ref('int_person_observations') }}
    where id_number_valid and id_agrees_with_record and name_key is not null
      and id_number in (select id_number from register)
    group by 1, 2
),

authority as (
    select id_number, name_key, coalesce(register_name, any_name) as name, records
    from (
        select votes.*, max(records) over (partition by id_number) as most,
               count(*) over (partition by id_number, records) as tied
        from votes
    ) as ranked
    where records = most and (tied = 1 or in_register)
),

found as (
    select dataset, record_key, 'zjhm' as column_name, delivery_id, 'ID_CHECK' as request_type,
           'ID number fails its check character (GB 11643)' as problem,
           'check character ' || right(id_number, 1) || ', computed '
               || {{ function('id_check_char') }}(left(id_number, 17)) as evidence,
           null::text as suggested_value
    from credit_person
    where not id_number_valid and id_number ~ '^[0-9]{17}[0-9X]$'
    union all
    select credit_person.dataset, credit_person.record_key, 'zjhm', credit_person.delivery_id,
           'ID_OTHER_PERSON', 'ID number belongs to another person in the register (gat_czrk)',
           'the register holds this number under another name', null
    from credit_person
    where credit_person.id_number_valid and credit_person.name_key is not null
      and exists (select 1 from register where register.id_number = credit_person.id_number)
      and not exists (
          select 1 from register
          where register.id_number = credit_person.id_number
            and (register.name_key = credit_person.name_key
                 or register.former_name_key = credit_person.name_key
                 or {{ one_char_apart('register.name_key', 'credit_person.name_key') }}))
    union all
    select credit_person.dataset, credit_person.record_key,
           case credit_person.dataset when 'xyb_xzcf' then 'xdrmc' else 'bzxrmc' end,
           credit_person.delivery_id, 'SOURCE_CONFLICT',
           'name differs by a character from the person''s other records',
           authority.records || ' records name ID number ' || credit_person.id_number || ' '
               || authority.name,
           authority.name
    from credit_person
    inner join authority on authority.id_number = credit_person.id_number
    where credit_person.id_number_valid and credit_person.name_key <> authority.name_key
      and {{ one_char_apart('credit_person.name_key', 'authority.name_key') }}
      and not exists (
          select 1 from register
          where register.id_number = credit_person.id_number
            and register.former_name_key = credit_person.name_key)
),

delivered as (
    {%- for ds, id_col, name_col in credit_columns %}
    {%- set pairs = [(ds, id_col), (ds, name_col)] %}
    {{ with_delivered_value('found', pairs) }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select {{ problem_columns() }}
from delivered as found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
