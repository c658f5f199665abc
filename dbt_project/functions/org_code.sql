{#- A legacy organization code (GB 11714) in its 9 characters, however delivered: with or
    without the hyphen before the check, spaces, full width, lower case (clean_code). -#}
select case when {{ function('is_valid_org_code') }}(c) then c end
from (select {{ function('clean_code') }}(value) as c) as v
