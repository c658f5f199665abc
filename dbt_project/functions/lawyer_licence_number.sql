select case when c ~ '^[0-9]{17}$' then c end
from (select {{ function('compact') }}(value) as c) as v
