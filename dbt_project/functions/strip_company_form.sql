{#- Plain suffix tests, not a regular expression: an end-anchored alternation cost ~40 µs a
    row, seconds for every pass over the organisations. A branch (分公司) keeps its whole
    name: it is not its parent. -#}
select nullif(translate(
    case
        when $1 like '%分公司' or $1 like '%分支机构' then $1
        when $1 like '%股份有限公司' or $1 like '%有限责任公司' then left($1, -6)
        when $1 like '%有限公司' then left($1, -4)
        when $1 like '%(特殊普通合伙)' then left($1, -8)
        when $1 like '%(普通合伙)' or $1 like '%(有限合伙)' then left($1, -6)
        when $1 like '%公司' then left($1, -2)
        else $1
    end, '()', ''), '')
