-- The weighted sum written out (an inlinable expression, see id_check_char).
select case when first17 ~ '^[0-9ABCDEFGHJKLMNPQRTUWXY]{17}$' then substr(
    '0123456789ABCDEFGHJKLMNPQRTUWXY',
    (31 - (
        (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 1, 1)) - 1) * 1 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 2, 1)) - 1) * 3
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 3, 1)) - 1) * 9 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 4, 1)) - 1) * 27
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 5, 1)) - 1) * 19 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 6, 1)) - 1) * 26
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 7, 1)) - 1) * 16 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 8, 1)) - 1) * 17
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 9, 1)) - 1) * 20 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 10, 1)) - 1) * 29
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 11, 1)) - 1) * 25 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 12, 1)) - 1) * 13
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 13, 1)) - 1) * 8 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 14, 1)) - 1) * 24
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 15, 1)) - 1) * 10 + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 16, 1)) - 1) * 30
        + (strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, 17, 1)) - 1) * 28
    ) % 31) % 31 + 1, 1) end
