-- Standardisation functions (schema std), used by the dbt models.
-- The same rules as plugins/mdm/standardize/{identifiers,values}.py, tested on the same
-- case tables (tests/cases/*.yaml) by tests/integration/test_standardize_sql.py.
-- Later changes: a new migration with `create or replace function`.
create schema if not exists std;

-- NFKC-folded, all whitespace removed, '' as null.
create or replace function std.compact(value text) returns text
language sql immutable parallel safe as $$
    select nullif(regexp_replace(normalize(value, NFKC), '\s+', '', 'g'), '')
$$;

create or replace function std.is_date(y int, m int, d int) returns boolean
language sql immutable parallel safe as $$
    select case
        when y between 1 and 9999 and m between 1 and 12
            then d between 1 and extract(day from make_date(y, m, 1) + interval '1 month' - interval '1 day')::int
        else false
    end
$$;

-- GB 11643-1999 ------------------------------------------------------------------
create or replace function std.id_check_char(first17 text) returns text
language sql immutable parallel safe as $$
    select case when first17 ~ '^[0-9]{17}$' then substr('10X98765432', (
        select sum(substr(first17, i::int, 1)::int * w)
        from unnest(array[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]) with ordinality as t(w, i)
    )::int % 11 + 1, 1) end
$$;

create or replace function std.is_valid_id_number(value text) returns boolean
language sql immutable parallel safe as $$
    select coalesce(case when value ~ '^[0-9]{17}[0-9X]$'
        then std.is_date(substr(value, 7, 4)::int, substr(value, 11, 2)::int, substr(value, 13, 2)::int)
             and std.id_check_char(substr(value, 1, 17)) = substr(value, 18, 1)
        else false end, false)
$$;

create or replace function std.normalize_id_number(value text) returns text
language sql immutable parallel safe as $$
    select case
        when v ~ '^[0-9]{15}$'
             and std.is_date(1900 + substr(v, 7, 2)::int, substr(v, 9, 2)::int, substr(v, 11, 2)::int)
            then substr(v, 1, 6) || '19' || substr(v, 7, 9)
                 || std.id_check_char(substr(v, 1, 6) || '19' || substr(v, 7, 9))
        else v
    end
    from (select upper(std.compact(value)) as v) as cleaned
$$;

create or replace function std.id_birth_date(value text) returns date
language sql immutable parallel safe as $$
    select case when std.is_valid_id_number(value)
        then make_date(substr(value, 7, 4)::int, substr(value, 11, 2)::int, substr(value, 13, 2)::int) end
$$;

create or replace function std.id_sex_code(value text) returns text
language sql immutable parallel safe as $$
    select case when std.is_valid_id_number(value)
        then case when substr(value, 17, 1)::int % 2 = 1 then '1' else '2' end end
$$;

-- GB 11714-1997 and GB 32100-2015 -------------------------------------------------------
create or replace function std.org_code_check_char(body8 text) returns text
language sql immutable parallel safe as $$
    select case when body8 ~ '^[0-9A-Z]{8}$' then (
        select case c when 10 then 'X' when 11 then '0' else c::text end
        from (select 11 - sum(
                  case when substr(body8, i::int, 1) ~ '[0-9]' then substr(body8, i::int, 1)::int
                       else ascii(substr(body8, i::int, 1)) - 55 end * w) % 11 as c
              from unnest(array[3, 7, 9, 10, 5, 8, 4, 2]) with ordinality as t(w, i)) as s
    ) end
$$;

create or replace function std.is_valid_org_code(value text) returns boolean
language sql immutable parallel safe as $$
    select coalesce(v ~ '^[0-9A-Z]{9}$' and std.org_code_check_char(substr(v, 1, 8)) = substr(v, 9, 1), false)
    from (select case when length(value) = 10 and substr(value, 9, 1) = '-'
                      then replace(value, '-', '') else value end as v) as compacted
$$;

create or replace function std.uscc_check_char(first17 text) returns text
language sql immutable parallel safe as $$
    select case when first17 ~ '^[0-9ABCDEFGHJKLMNPQRTUWXY]{17}$' then substr(
        '0123456789ABCDEFGHJKLMNPQRTUWXY',
        (31 - (select sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(first17, i::int, 1)) - 1) * w)
               from unnest(array[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
                    with ordinality as t(w, i))::int % 31) % 31 + 1, 1) end
$$;

create or replace function std.is_valid_uscc(value text) returns boolean
language sql immutable parallel safe as $$
    select coalesce(case when value ~ '^[0-9ABCDEFGHJKLMNPQRTUWXY]{18}$'
        then std.uscc_check_char(substr(value, 1, 17)) = substr(value, 18, 1)
             and std.is_valid_org_code(substr(value, 9, 9))
        else false end, false)
$$;

create or replace function std.uscc_org_code(value text) returns text
language sql immutable parallel safe as $$
    select case when std.is_valid_uscc(value) then substr(value, 9, 9) end
$$;

-- Values -----------------------------------------------------------------------------------
create or replace function std.clean_code(value text) returns text
language sql immutable parallel safe as $$
    select nullif(upper(replace(std.compact(value), '-', '')), '')
$$;

create or replace function std.clean_name(value text) returns text
language sql immutable parallel safe as $$
    select nullif(translate(std.compact(value), '•・∙●.･', '······'), '')
$$;

create or replace function std.name_key(value text) returns text
language sql immutable parallel safe as $$
    select nullif(replace(translate(std.clean_name(value),
        '陳劉黃張楊吳趙韋蘭華國軍紅麗偉強龍鳳東廣寧榮貴慶馬鍾謝蘇羅鄧馮盧譚藍農覃蒙陸莫潘唐何胡朱曾宋傑娟濤艷輝梅琳浩欣雪蓮凱樂康豐義禮',
        '陈刘黄张杨吴赵韦兰华国军红丽伟强龙凤东广宁荣贵庆马钟谢苏罗邓冯卢谭蓝农覃蒙陆莫潘唐何胡朱曾宋杰娟涛艳辉梅琳浩欣雪莲凯乐康丰义礼'), '·', ''), '')
$$;

create or replace function std.parse_date(
    value text, today date default current_date, out iso date, out flag text
) language plpgsql stable parallel safe as $$
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
    if not std.is_date(m[1]::int, m[2]::int, m[3]::int) then
        flag := 'impossible';
        return;
    end if;
    iso := make_date(m[1]::int, m[2]::int, m[3]::int);
    if iso > today then
        iso := null;
        flag := 'future';
    end if;
end
$$;

create or replace function std.date_value(value text) returns date
language sql stable parallel safe as $$ select (std.parse_date(value)).iso $$;

create or replace function std.date_flag(value text) returns text
language sql stable parallel safe as $$ select (std.parse_date(value)).flag $$;

create or replace function std.sex_code(value text) returns text
language sql immutable parallel safe as $$
    select case upper(regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g'))
        when '1' then '1' when '男' then '1' when '男性' then '1' when 'M' then '1'
        when '2' then '2' when '女' then '2' when '女性' then '2' when 'F' then '2'
        when '0' then '0' when '9' then '9'
    end
$$;

create or replace function std.ethnicity_code(value text) returns text
language sql immutable parallel safe as $$
    select e.code
    from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g') as t) as v
    join (values
        ('01', '汉族'),
        ('02', '蒙古族'),
        ('03', '回族'),
        ('04', '藏族'),
        ('05', '维吾尔族'),
        ('06', '苗族'),
        ('07', '彝族'),
        ('08', '壮族'),
        ('09', '布依族'),
        ('10', '朝鲜族'),
        ('11', '满族'),
        ('12', '侗族'),
        ('13', '瑶族'),
        ('14', '白族'),
        ('15', '土家族'),
        ('16', '哈尼族'),
        ('17', '哈萨克族'),
        ('18', '傣族'),
        ('19', '黎族'),
        ('20', '傈僳族'),
        ('21', '佤族'),
        ('22', '畲族'),
        ('23', '高山族'),
        ('24', '拉祜族'),
        ('25', '水族'),
        ('26', '东乡族'),
        ('27', '纳西族'),
        ('28', '景颇族'),
        ('29', '柯尔克孜族'),
        ('30', '土族'),
        ('31', '达斡尔族'),
        ('32', '仫佬族'),
        ('33', '羌族'),
        ('34', '布朗族'),
        ('35', '撒拉族'),
        ('36', '毛南族'),
        ('37', '仡佬族'),
        ('38', '锡伯族'),
        ('39', '阿昌族'),
        ('40', '普米族'),
        ('41', '塔吉克族'),
        ('42', '怒族'),
        ('43', '乌孜别克族'),
        ('44', '俄罗斯族'),
        ('45', '鄂温克族'),
        ('46', '德昂族'),
        ('47', '保安族'),
        ('48', '裕固族'),
        ('49', '京族'),
        ('50', '塔塔尔族'),
        ('51', '独龙族'),
        ('52', '鄂伦春族'),
        ('53', '赫哲族'),
        ('54', '门巴族'),
        ('55', '珞巴族'),
        ('56', '基诺族'),
        ('97', '其他'),
        ('98', '外国血统中国籍人士')
    ) as e(code, name)
      on (v.t ~ '^[0-9]{1,2}$' and lpad(v.t, 2, '0') = e.code) or v.t = e.name or v.t || '族' = e.name
    limit 1
$$;

create or replace function std.mobile(value text) returns text
language sql immutable parallel safe as $$
    select case when d ~ '^1[3-9][0-9]{9}$' then d end
    from (select case when length(x) = 13 and x like '86%' then substr(x, 3) else x end as d
          from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '[^0-9]', '', 'g') as x) as a) as b
$$;

create or replace function std.division_code(value text) returns text
language sql immutable parallel safe as $$
    select case when t ~ '^[0-9]{6}$' then t end
    from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g') as t) as v
$$;

create or replace function std.clean_address(value text) returns text
language sql immutable parallel safe as $$
    select replace(replace(replace(replace(replace(replace(replace(replace(replace(t, '武鸣县', '武鸣区'), '横县', '横州市'), '柳江县', '柳江区'), '临桂县', '临桂区'), '荔浦县', '荔浦市'), '田阳县', '田阳区'), '靖西县', '靖西市'), '平果县', '平果市'), '宜州市', '宜州区')
    from (select case
        when c like '广西壮族自治区%' then c
        when c like '广西%' then '广西壮族自治区' || substr(c, 3)
        when c ~ '^(南宁市|柳州市|桂林市|梧州市|北海市|防城港市|钦州市|贵港市|玉林市|百色市|贺州市|河池市|来宾市|崇左市)' then '广西壮族自治区' || c
        else c end as t
    from (select std.compact(value) as c) as compacted) as provinced
$$;

-- GXSJ in either form of the standard (YYYYMMDDHHMMSS, YYYY-MM-DD HH:MM:SS), Beijing wall time.
create or replace function std.gxsj(value text) returns timestamp
language sql immutable parallel safe as $$
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
$$;
