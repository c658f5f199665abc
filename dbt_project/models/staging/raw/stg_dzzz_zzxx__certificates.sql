-- The e-certificate library: one row per certificate (zzbs), its holder's name and code as
-- the library states them, and the business record that issued it (ywlsh) when given.
-- The surface and layout fields stay JSON text as delivered (the certificates capability
-- reads them).
with current_record as {{ current_records('dzzz_zzxx', ['zzbs']) }},

certificate as (
    select
        current_record.*,
        btrim(czztdmlx) as holder_code_type,
        {{ function('clean_code') }}(czztdm) as holder_code
    from current_record
)

select
    btrim(zzbs) as record_key,
    upper(btrim(zzlxdm)) as certificate_type,
    nullif(btrim(zzbh), '') as certificate_number,
    czztmc as holder_name_raw,
    {{ function('clean_name') }}(czztmc) as holder_name,
    {{ function('name_key') }}(czztmc) as holder_name_key,
    case holder_code_type when '111' then 'person' when '414' then 'person'
                          when '001' then 'organisation' end as holder_kind,
    holder_code_type,
    case when holder_code_type = '111' then {{ function('normalize_id_number') }}(czztdm) end
        as holder_id_number,
    holder_code_type = '111'
        and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(czztdm))
        as holder_id_number_valid,
    case when holder_code_type = '414' then holder_code end as holder_passport_number,
    case when holder_code_type = '001' then holder_code end as holder_uscc,
    holder_code_type = '001' and {{ function('is_valid_uscc') }}(holder_code) as holder_uscc_valid,
    case when holder_code_type = '001' then
        coalesce({{ function('uscc_org_code') }}(holder_code), {{ function('org_code') }}(holder_code))
    end as holder_organization_code,
    bfjg as issuer_name,
    {{ function('clean_code') }}(bfjgdm) as issuer_uscc,
    {{ function('date_value') }}(bfrq) as issue_date,
    {{ function('valid_until') }}(yxqz) as valid_until,
    {{ function('is_permanent') }}(yxqz) as is_permanent,
    case btrim(zzzt) when '1' then 'valid' when '2' then 'annulled' end as status,
    nullif(btrim(ywlsh), '') as business_record_key,
    zmxx as surface_fields,
    bswj as layout_file,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from certificate
