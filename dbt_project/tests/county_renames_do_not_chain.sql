-- std.clean_address applies the renames one after another: a new name that held an old one
-- would be renamed again, and the result would depend on the order.
select r.old_name, n.new_name
from {{ ref('county_renames') }} as r
join {{ ref('county_renames') }} as n on strpos(n.new_name, r.old_name) > 0
