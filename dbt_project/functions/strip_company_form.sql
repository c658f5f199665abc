{#- Suffix tests, one per company form of the seed company_forms in its test_order (the
    commonest forms early; a form before any shorter one it ends with: 股份有限公司 before
    公司), not a regular expression: an end-anchored alternation cost ~40 µs a row, seconds
    for every pass over the organisations. A branch (分公司, kept) keeps its whole name: it
    is not its parent. -#}
select nullif(translate(
    case
        {%- for suffix, kept in std_seed_rows('company_forms', ['suffix', 'kept'], 'test_order') %}
        when $1 like {{ std_text('%' ~ suffix) }} then {{ '$1' if kept else 'left($1, -' ~ suffix | length ~ ')' }}
        {%- endfor %}
        else $1
    end, '()', ''), '')
