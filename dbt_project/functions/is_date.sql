select case
    when y between 1 and 9999 and m between 1 and 12
        then d between 1 and extract(day from make_date(y, m, 1) + interval '1 month' - interval '1 day')::int
    else false
end
