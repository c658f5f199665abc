-- Credit office: administrative penalties (双公示). The party is an organisation (credit
-- code or legacy organization code), a natural person (certificate type and number) or an
-- individual business (credit code, or its operator's ID number when it has none).
with current_record as {{ current_records('xyb_xzcf', ['xzcfid']) }},

penalty as (
    select
        current_record.*,
        btrim(xdrlb) as party_category,
        {{ function('clean_code') }}(xdrdm) as party_code,
        {{ function('normalize_id_number') }}(xdrdm) as party_code_as_id_number
    from current_record
)

select
    btrim(xzcfid) as record_key,
    {{ function('decision_number') }}(cfjdswh) as decision_number,
    xdrmc as party_name_raw,
    {{ function('clean_name') }}(xdrmc) as party_name,
    {{ function('name_key') }}(xdrmc) as party_name_key,
    case party_category when '1' then 'organisation' when '2' then 'person'
                        when '3' then 'individual_business' end as party_kind,
    party_code,
    case when {{ function('is_valid_uscc') }}(party_code) then party_code end as party_uscc,
    coalesce({{ function('uscc_org_code') }}(party_code), {{ function('org_code') }}(party_code))
        as party_organization_code,
    -- an individual business without a credit code is keyed by its operator's ID number
    case when party_category = '3' and {{ function('is_valid_id_number') }}(party_code_as_id_number)
         then party_code_as_id_number end as operator_id_number,
    fddbr as legal_rep_name_raw,
    {{ function('clean_name') }}(fddbr) as legal_rep_name,
    btrim(zjlx) as id_type,
    case when btrim(zjlx) = '111' then {{ function('normalize_id_number') }}(zjhm)
         else {{ function('clean_code') }}(zjhm) end as id_number,
    btrim(zjlx) = '111' and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(zjhm))
        as id_number_valid,
    array(select btrim(kind) from unnest(string_to_array(cflb, ';')) as kind where btrim(kind) <> '')
        as penalty_types,
    {{ function('amount_wan_yuan') }}(cfje) as fine_yuan,
    {{ function('date_value') }}(cfrq) as decision_date,
    cfjg as authority_name,
    {{ function('clean_code') }}(cfjgdm) as authority_uscc,
    -- a date in the future is the point here (date_value refuses future dates as typos)
    {{ function('valid_until') }}(gsjzq) as publish_until,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from penalty
