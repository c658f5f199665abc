{#- GB/T 2261.1 code from a code, 男/女 or M/F: the spellings are the seed sex_spellings. -#}
select case upper(regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g'))
    {%- for spelling, code in std_seed_rows('sex_spellings', ['spelling', 'code'], 'code, spelling') %}
    when {{ std_text(spelling) }} then {{ std_text(code) }}
    {%- endfor %}
end
