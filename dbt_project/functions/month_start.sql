{#- YYYYMM (the standard), YYYY-MM, YYYY/MM, YYYY.MM, YYYY年M月, or a whole date that
    parse_date reads (its month), as the month's first day. No future check: a month paid
    up to (JZNY) may lie ahead. -#}
select case
    when m is null then date_trunc('month', ({{ function('parse_date') }}(c, date '9999-12-31')).iso)::date
    when {{ function('is_date') }}(m[1]::int, coalesce(m[2], m[3])::int, 1)
        then make_date(m[1]::int, coalesce(m[2], m[3])::int, 1)
end
from (select c, regexp_match(c, '^((?:19|20)[0-9]{2})(?:([0-9]{2})|[-/.年]([0-9]{1,2})月?)$') as m
      from (select {{ function('compact') }}(value) as c) as v) as parsed
