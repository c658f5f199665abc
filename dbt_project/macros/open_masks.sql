-- How a natural person appears in an open resource (standard 6.2): the surname and a star
-- (张*, 欧阳* for a compound surname), the ID number as its first and last four characters
-- (4501**********123X); any other document number not at all.
{% macro open_person_name(name) -%}
    case when nullif(btrim({{ name }}), '') is null then null
         when left(btrim({{ name }}), 2) in ('欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟',
             '公孙', '慕容', '长孙', '令狐', '夏侯', '宇文', '轩辕', '端木', '司徒', '西门', '南宫',
             '独孤', '百里', '呼延', '闻人', '澹台', '公冶', '濮阳', '太史', '申屠', '钟离')
              and char_length(btrim({{ name }})) > 2
         then left(btrim({{ name }}), 2) || '*'
         else left(btrim({{ name }}), 1) || '*' end
{%- endmacro %}

{% macro open_id_number(id_number) -%}
    case when {{ id_number }} ~ '^[0-9]{17}[0-9X]$'
         then left({{ id_number }}, 4) || repeat('*', 10) || right({{ id_number }}, 4) end
{%- endmacro %}
