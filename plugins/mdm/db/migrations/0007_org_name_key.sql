-- Organisation names for matching (Splink's organisation model): the name key without its
-- company form or brackets. A branch (分公司) keeps its whole name: it is not its parent.
-- Plain suffix tests, not a regular expression: an end-anchored alternation cost ~40 µs a
-- row, seconds for every pass over the organisations.
-- Python twins: mdm.standardize.values.strip_company_form / org_name_key; both run
-- tests/cases/standardize.yaml.
create or replace function std.strip_company_form(name_key text) returns text
language sql immutable parallel safe as $$
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
$$;

create or replace function std.org_name_key(value text) returns text
language sql immutable parallel safe as $$
    select std.strip_company_form(std.name_key(value))
$$;
