-- Found (issue 21, standard 6.1): every problem the platform raises from the observations,
-- one row per (dataset, record, column) with the value as delivered. Each kind is a model
-- problems_<kind> with these columns; another kind is one more model and one more line here.
{%- set kinds = ['problems_id_number', 'problems_birth_date', 'problems_credit_code',
    'problems_source_conflict', 'problems_certificate', 'problems_credit_person',
    'problems_missing_required'] %}
{%- for kind in kinds %}
select
    dataset::text as dataset,
    record_key::text as record_key,
    column_name::text as column_name,
    delivered_value::text as delivered_value,
    problem::text as problem,
    request_type::text as request_type,
    evidence::text as evidence,
    suggested_value::text as suggested_value,
    department::text as department
from {{ ref(kind) }}
{{ "union all" if not loop.last }}
{%- endfor %}
