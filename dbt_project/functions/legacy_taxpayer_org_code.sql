{#- The organization code in a 15-character legacy taxpayer number (division + org code). -#}
select case when length(value) = 15 and {{ function('is_valid_org_code') }}(substr(value, 7))
    then substr(value, 7) end
