{#- GB 32100-2015: positions 1-2 a registering authority and one of its categories
    (appendix A), a valid organization code in positions 9-17, the right check character.
    The pair matters: an individual business's taxpayer number may be its owner's ID number
    (standard 3), and one in 341 ID numbers passes the two checks by chance; no Guangxi ID
    number (45...) has an authority's pair. -#}
select coalesce(case when value ~ '^(1[1239]|2[19]|3[1-59]|4[19]|5[1239]|6[129]|7[129]|8[19]|9[1-3]|A[19]|N[1-39]|Y1)[0-9ABCDEFGHJKLMNPQRTUWXY]{16}$'
    then {{ function('uscc_check_char') }}(substr(value, 1, 17)) = substr(value, 18, 1)
         and {{ function('is_valid_org_code') }}(substr(value, 9, 9))
    else false end, false)
