select case when body8 ~ '^[0-9A-Z]{8}$' then (
    select case c when 10 then 'X' when 11 then '0' else c::text end
    from (select 11 - sum(
              case when substr(body8, i::int, 1) ~ '[0-9]' then substr(body8, i::int, 1)::int
                   else ascii(substr(body8, i::int, 1)) - 55 end * w) % 11 as c
          from unnest(array[3, 7, 9, 10, 5, 8, 4, 2]) with ordinality as t(w, i)) as s
) end
