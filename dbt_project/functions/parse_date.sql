declare
t text := regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g');
m text[];
begin
if t = '' then
    return;
end if;
flag := 'ok';
m := regexp_match(t, '^([0-9]{4})-([0-9]{2})-([0-9]{2})([ T].*)?$');
if m is null then
    m := regexp_match(t, '^([0-9]{4})([0-9]{2})([0-9]{2})$');
end if;
if m is null then
    m := regexp_match(t, '^([0-9]{4})[/.年]([0-9]{1,2})[/.月]([0-9]{1,2})日?$');
    flag := 'reformatted';
end if;
if m is null then
    flag := 'unparseable';
    return;
end if;
if not {{ function('is_date') }}(m[1]::int, m[2]::int, m[3]::int) then
    flag := 'impossible';
    return;
end if;
iso := make_date(m[1]::int, m[2]::int, m[3]::int);
if iso > today then
    iso := null;
    flag := 'future';
end if;
end
