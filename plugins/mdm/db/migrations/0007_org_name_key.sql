-- Organisation name for matching (Splink's organisation model): the name key without its
-- company form or brackets. A branch (分公司) keeps its whole name: it is not its parent.
-- Python twin: mdm.standardize.values.org_name_key; both run tests/cases/standardize.yaml.
create or replace function std.org_name_key(value text) returns text
language sql immutable parallel safe as $$
    select nullif(translate(
        case when std.name_key(value) ~ '(分公司|分支机构)$' then std.name_key(value)
             else regexp_replace(std.name_key(value),
                 '(股份有限公司|有限责任公司|有限公司|公司|\((特殊普通合伙|普通合伙|有限合伙)\))$', '')
        end, '()', ''), '')
$$;
