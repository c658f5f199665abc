{#- A validity end (有效期至): the date in any format parse_date reads (a future date is the
    point here, never refused); 长期 and the other spellings of "no expiry" -> 9999-12-31. -#}
select case
    when c in ('长期', '长期有效', '永久', '永久有效', '无期限', '无固定期限') then date '9999-12-31'
    else ({{ function('parse_date') }}(c, date '9999-12-31')).iso
end
from (select {{ function('compact') }}(value) as c) as v
