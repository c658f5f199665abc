{#- An amount declared in 万元 (xyb_xzcf CFJE): a bare number is 万元; a written unit is read. -#}
select {{ function('amount_yuan') }}(case when c ~ '(元|万)$' then c else c || '万元' end)
from (select {{ function('compact') }}(value) as c) as v
