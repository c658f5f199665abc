-- Market supervision: enterprise registrations. Authoritative for enterprises' names and status.
with current_record as {{ current_records('scjgj_qydj', ['pripid']) }}

select
    btrim(pripid) as record_key,
    std.clean_code(uniscid) as uscc,
    std.is_valid_uscc(std.clean_code(uniscid)) as uscc_valid,
    std.uscc_org_code(std.clean_code(uniscid)) as organization_code,
    std.clean_code(regno) as registration_number,
    entname as name_raw,
    std.clean_name(entname) as name,
    std.name_key(entname) as name_key,
    btrim(enttype) as enterprise_type,
    case
        when btrim(enttype) = '9500' then 'individual_business'
        when btrim(enttype) = '9100' then 'cooperative'
        else 'enterprise'
    end as org_kind,
    btrim(enttype) in ('1190', '1290') as is_branch,
    lerep as legal_rep_name_raw,
    std.clean_name(lerep) as legal_rep_name,
    std.name_key(lerep) as legal_rep_name_key,
    case when btrim(lerep_certype) = '10' then std.normalize_id_number(lerep_cerno)
         else std.clean_code(lerep_cerno) end as legal_rep_id_number,
    btrim(lerep_certype) = '10'
        and std.is_valid_id_number(std.normalize_id_number(lerep_cerno)) as legal_rep_id_number_valid,
    case when btrim(regcap) ~ '^[0-9]+(\.[0-9]+)?$' and btrim(regcapcur) in ('156', '')
         then btrim(regcap)::numeric * 10000 end as registered_capital_cny,
    std.date_value(estdate) as establishment_date,
    std.clean_address(dom) as address,
    std.division_code(domdistrict) as division_code,
    case btrim(regstate)
        when '1' then 'active' when '2' then 'revoked' when '3' then 'deregistered' when '4' then 'moved_out'
    end as status,
    upper(btrim(industryco)) as industry_code,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
