-- std.strip_company_form takes the first suffix that matches: a form tested after a shorter
-- one it ends with (公司 before 有限公司) would never be stripped whole.
select longer.suffix, shorter.suffix as shadowed_by
from {{ ref('company_forms') }} as longer
join {{ ref('company_forms') }} as shorter
  on longer.suffix <> shorter.suffix
 and right(longer.suffix, char_length(shorter.suffix)) = shorter.suffix
 and longer.test_order > shorter.test_order
