select case when first17 ~ '^[0-9]{17}$' then substr('10X98765432', (
    select sum(substr(first17, i::int, 1)::int * w)
    from unnest(array[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]) with ordinality as t(w, i)
)::int % 11 + 1, 1) end
