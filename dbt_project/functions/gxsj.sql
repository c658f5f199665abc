select case
    when btrim(value) ~ '^[0-9]{14}$'
        then make_timestamp(substr(btrim(value), 1, 4)::int, substr(btrim(value), 5, 2)::int,
                            substr(btrim(value), 7, 2)::int, substr(btrim(value), 9, 2)::int,
                            substr(btrim(value), 11, 2)::int, substr(btrim(value), 13, 2)::int)
    when btrim(value) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}'
        then make_timestamp(substr(btrim(value), 1, 4)::int, substr(btrim(value), 6, 2)::int,
                            substr(btrim(value), 9, 2)::int, substr(btrim(value), 12, 2)::int,
                            substr(btrim(value), 15, 2)::int, substr(btrim(value), 18, 2)::int)
end
