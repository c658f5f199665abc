{#- Matching key: the clean name in simplified characters (seed traditional_characters),
    without the middle dot. -#}
{%- set pairs = std_seed_rows('traditional_characters', ['traditional', 'simplified'], 'traditional') -%}
select nullif(replace(translate({{ function('clean_name') }}(value),
    {{ std_text(pairs | map(attribute=0) | join) }},
    {{ std_text(pairs | map(attribute=1) | join) }}), '·', ''), '')
