{#- An analyst view's columns that keep a published column's meaning (same name) get that
    column's comment, so analysts read every meaning in psql without the views' YAML
    repeating the repositories'. A column the view documents itself keeps its own. -#}
{% macro comment_like_published(table) %}
do $$
declare r record;
begin
  for r in
    select a.attname, col_description(p.attrelid, p.attnum) as meaning
    from pg_attribute a
    join pg_attribute p on p.attrelid = to_regclass('mdm.{{ table }}')
                       and p.attname = a.attname and p.attnum > 0 and not p.attisdropped
    where a.attrelid = '{{ this }}'::regclass and a.attnum > 0 and not a.attisdropped
      and col_description(a.attrelid, a.attnum) is null
      and col_description(p.attrelid, p.attnum) is not null
  loop
    execute format('comment on column %s.%I is %L', '{{ this }}', r.attname, r.meaning);
  end loop;
end $$
{% endmacro %}
