select coalesce(case when value ~ '^[0-9ABCDEFGHJKLMNPQRTUWXY]{18}$'
    then {{ function('uscc_check_char') }}(substr(value, 1, 17)) = substr(value, 18, 1)
         and {{ function('is_valid_org_code') }}(substr(value, 9, 9))
    else false end, false)
