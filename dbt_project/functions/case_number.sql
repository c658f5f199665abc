{#- A court case number (案号): "(" year ")" court code, case type, number "号" [之N]. Brackets
    as the standard writes them (half width; （）〔〕[]【】〖〗 and none are read), no spaces,
    no leading zeros, 号 added when missing. -#}
select case when m is not null
    then '(' || m[1] || ')' || m[2] || m[3] || '号' || coalesce(m[4], '') end
from (select regexp_match(
    translate({{ function('compact') }}(value), '〔〕[]【】〖〗', '()()()()'),
    '^\(?((?:19|20)[0-9]{2})\)?((?:最高法|[一-龥])[0-9]{0,4}[一-龥]{1,6})0*([1-9][0-9]*)号?(之[一二三四五六七八九十]+)?$'
) as m) as parsed
