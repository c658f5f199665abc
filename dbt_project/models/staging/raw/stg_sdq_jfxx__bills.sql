-- Water, electricity and gas: non-residential customers' monthly bills (record key: account
-- number and bill month). An account names its organisation by credit code or by name and
-- address only.
with current_record as {{ current_records('sdq_jfxx', ['hh', 'zdny']) }},

bill as (
    select current_record.*, {{ function('clean_code') }}(tyshxydm) as uscc
    from current_record
)

select
    btrim(hh) || '_' || btrim(zdny) as record_key,
    btrim(hh) as account_number,
    case upper(btrim(nylx)) when 'S' then 'water' when 'D' then 'electricity' when 'Q' then 'gas' end
        as energy_type,
    yhmc as name_raw,
    {{ function('clean_name') }}(yhmc) as name,
    {{ function('name_key') }}(yhmc) as name_key,
    uscc,
    {{ function('is_valid_uscc') }}(uscc) as uscc_valid,
    {{ function('uscc_org_code') }}(uscc) as organization_code,
    {{ function('clean_address') }}(yddz) as address,
    {{ function('month_start') }}(zdny) as bill_month,
    {{ function('amount_yuan') }}(yjje) as amount_due_yuan,
    {{ function('amount_yuan') }}(sjje) as amount_paid_yuan,
    {{ function('amount_yuan') }}(qfje) as arrears_yuan,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from bill
