-- One row per live record of the sources that describe an entity rather than feed a
-- repository (credit, authorisation, certificate: registry domain), with what the record
-- names its entity by: a credit code, an organization code, an individual business's
-- operator's ID number, a person's ID or passport number, the business record that issued a
-- certificate, and its name and address. plugins/mdm/resolve/links.py links each to a
-- person or legal person after resolution (ADR 0017); a record never makes an entity.
{%- set columns = [
    'dataset', 'record_key', 'entity_kind', 'uscc', 'organization_code', 'operator_id_number',
    'id_number', 'passport_number', 'business_dataset', 'business_record_key', 'has_code',
    'name_key', 'address_key'] %}
{#- Incremental: a run recomputes the records of the deliveries not yet applied. -#}
{{ incremental_by_delivery(['gjj_dwjc', 'sdq_jfxx', 'xyd_sq', 'xyb_xzcf', 'fy_sxbzxr',
    'dzzz_zzxx'], 'dataset') }}

with link_record as (
    {% for model in ['stg_gjj_dwjc__accounts', 'stg_sdq_jfxx__bills', 'stg_xyd_sq__authorisations'] %}
    select {{ select_named(columns, {
        'dataset': "'" ~ model.split("__")[0][4:] ~ "'", 'entity_kind': "'organisation'",
        'uscc': 'case when uscc_valid then uscc end',
        'has_code': 'uscc is not null or organization_code is not null',
        'address_key': "null::text" if model == 'stg_xyd_sq__authorisations'
                       else function('address_key') ~ '(address)'},
        ['record_key', 'organization_code', 'name_key']) }}
    from {{ ref(model) }}
    where {{ in_batch(model.split("__")[0][4:]) }}
    union all
    {% endfor %}

    select {{ select_named(columns, {
        'dataset': "'xyb_xzcf'",
        'entity_kind': "case when party_kind = 'person' then 'person' else 'organisation' end",
        'uscc': 'party_uscc', 'organization_code': 'party_organization_code',
        'id_number': "case when party_kind = 'person' and id_number_valid then id_number end",
        'passport_number': "case when party_kind = 'person' and id_type <> '111' then id_number end",
        'has_code': "coalesce(party_code, id_number) is not null",
        'name_key': 'party_name_key'},
        ['record_key', 'operator_id_number']) }}
    from {{ ref('stg_xyb_xzcf__penalties') }}
    where {{ in_batch('xyb_xzcf') }}

    union all
    select {{ select_named(columns, {
        'dataset': "'fy_sxbzxr'", 'entity_kind': "coalesce(debtor_kind, 'organisation')",
        'id_number': 'case when id_number_valid then id_number end',
        'has_code': 'coalesce(id_number, organization_code, uscc) is not null',
        'name_key': 'debtor_name_key'},
        ['record_key', 'uscc', 'organization_code']) }}
    from {{ ref('stg_fy_sxbzxr__debtors') }}
    where {{ in_batch('fy_sxbzxr') }}

    union all
    -- a certificate: its holder by code, else the business record that issued it (ywlsh)
    select {{ select_named(columns, {
        'dataset': "'dzzz_zzxx'",
        'entity_kind': "coalesce(holder_kind, case when certificate_type in
            ('YYZZ', 'SYDWFRZS', 'SHZZDJZS', 'LSSWSZYXKZ') then 'organisation' else 'person' end)",
        'uscc': 'case when holder_uscc_valid then holder_uscc end',
        'organization_code': 'holder_organization_code',
        'id_number': 'case when holder_id_number_valid then holder_id_number end',
        'passport_number': 'holder_passport_number',
        'business_dataset': "case certificate_type when 'YYZZ' then 'scjgj_qydj'
            when 'SYDWFRZS' then 'bb_sydwdj' when 'SHZZDJZS' then 'mzt_shzz'
            when 'LSSWSZYXKZ' then 'sft_jgdj' when 'LSZYZ' then 'sft_zyry' end",
        'has_code': 'coalesce(holder_id_number, holder_passport_number, holder_uscc) is not null',
        'name_key': 'holder_name_key'},
        ['record_key', 'business_record_key']) }}
    from {{ ref('stg_dzzz_zzxx__certificates') }}
    where {{ in_batch('dzzz_zzxx') }}
)

select * from link_record
