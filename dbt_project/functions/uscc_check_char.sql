select case when first17 ~ '^[0-9ABCDEFGHJKLMNPQRTUWXY]{17}$' then substr(
    '0123456789ABCDEFGHJKLMNPQRTUWXY',
    (31 - (select sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, i::int, 1)) - 1) * w)
           from unnest(array[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
                with ordinality as t(w, i))::int % 31) % 31 + 1, 1) end
