{#- An address for matching: the clean address without the province and a prefecture before
    the county (seed prefectures). Departments write the same place with or without them
    (广西壮族自治区柳州市鹿寨县桂春路161号, 鹿寨县桂春路161号); the county and the rest decide. -#}
{%- set prefectures = std_seed_rows('prefectures', ['name'], 'name') | map(attribute=0) | join('|') -%}
select nullif(regexp_replace(
    regexp_replace({{ function('clean_address') }}(value), {{ std_text('^广西壮族自治区') }}, ''),
    {{ std_text('^(' ~ prefectures ~ ')(?=.)') }}, ''), '')
