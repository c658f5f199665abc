{#- The correction loop's problem models (models/corrections, issue 21): where each person
    source record's identity values were delivered, and the delivered text of a problem. -#}

{% macro person_columns() -%}
    {#- (dataset, role of the record key's #ROLE or '', ID number column, name column, birth
        date column or none, the birth date's declared format) as the raw tables name them. -#}
    {{ return([
        ('gat_czrk', '', 'gmsfhm', 'xm', 'csrq', 'YYYYMMDD'),
        ('mzt_hydj', 'NAN', 'nan_zjhm', 'nan_xm', 'nan_csrq', 'YYYY-MM-DD'),
        ('mzt_hydj', 'NV', 'nv_zjhm', 'nv_xm', 'nv_csrq', 'YYYY-MM-DD'),
        ('swj_grnsr', '', 'sfzjhm', 'xm', none, none),
        ('rst_cbry', '', 'shbzhm', 'xm', 'csrq', 'YYYY-MM-DD'),
        ('wjw_csyxzm', 'MQ', 'mqsfzjhm', 'mqxm', none, none),
        ('wjw_csyxzm', 'FQ', 'fqsfzjhm', 'fqxm', none, none),
        ('jyt_xsxj', 'XS', 'sfzjh', 'xm', 'csrq', 'YYYYMMDD'),
        ('jyt_xsxj', 'JHR', 'jhrsfzjh', 'jhrxm', none, none),
        ('scjgj_qydj', 'FDDBR', 'lerep_cerno', 'lerep', none, none),
        ('bb_sydwdj', 'FDDBR', 'fddbrzjhm', 'fddbr', none, none),
        ('mzt_shzz', 'FDDBR', 'fddbrsfzh', 'fddbr', none, none),
        ('swj_dwnsr', 'FDDBR', 'fddbrsfzjhm', 'fddbrxm', none, none),
        ('sft_jgdj', 'FZR', 'fzrzjhm', 'fzr', none, none),
        ('sft_zyry', '', 'sfzjhm', 'xm', none, none)]) }}
{%- endmacro %}

{% macro person_column_values(kind) -%}
    {#- The person columns as a values list: (dataset, role, column_name[, date_format]) for
        kind id, name or birth. -#}
    (values
    {%- set rows = [] %}
    {%- for ds, role, id_col, name_col, birth_col, fmt in person_columns() %}
        {%- set col = {'id': id_col, 'name': name_col, 'birth': birth_col}[kind] %}
        {%- if col %}{% do rows.append("('" ~ ds ~ "', '" ~ role ~ "', '" ~ col ~ "', '" ~ (fmt or '') ~ "')") %}{% endif %}
    {%- endfor %}
    {{ rows | join(',\n    ') }}) as person_column (dataset, role, column_name, date_format)
{%- endmacro %}

{% macro with_delivered_value(found, pairs) -%}
    {#- The rows of CTE `found` (dataset, record_key, column_name, delivery_id, ...) with the
        value as delivered: the raw row of the record's current delivery (the last line).
        One pass over each raw table joined by hash, not a lookup per row: a raw row's key is
        an expression no index holds, so a lookup per problem read the whole delivery each
        time (the loop took 6 minutes at 50k persons). -#}
    {%- for ds, col in pairs %}
    select found.*, current_row.delivered_value
    from {{ found }} as found
    left join (
        select distinct on (raw_row._delivery_id, {{ raw_record_key(ds, 'raw_row') }})
            raw_row._delivery_id as delivery_id,
            {{ raw_record_key(ds, 'raw_row') }} as record_key,
            raw_row.{{ col }} as delivered_value
        from {{ source('raw', ds) }} as raw_row
        where (raw_row._delivery_id, {{ raw_record_key(ds, 'raw_row') }}) in (
            select wanted.delivery_id, regexp_replace(wanted.record_key, '#[A-Z]+$', '')
            from {{ found }} as wanted
            where wanted.dataset = '{{ ds }}' and wanted.column_name = '{{ col }}')
        order by raw_row._delivery_id, {{ raw_record_key(ds, 'raw_row') }},
                 length(raw_row._file) desc, raw_row._file desc, raw_row._line desc
    ) as current_row
        on current_row.delivery_id = found.delivery_id
        and current_row.record_key = regexp_replace(found.record_key, '#[A-Z]+$', '')
    where found.dataset = '{{ ds }}' and found.column_name = '{{ col }}'
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro person_pairs(kind) -%}
    {%- set pairs = [] %}
    {%- for ds, role, id_col, name_col, birth_col, fmt in person_columns() %}
        {%- set col = {'id': id_col, 'name': name_col, 'birth': birth_col}[kind] %}
        {%- if col and (ds, col) not in pairs %}{% do pairs.append((ds, col)) %}{% endif %}
    {%- endfor %}
    {{ return(pairs) }}
{%- endmacro %}

{% macro problem_columns(department_of='found.dataset') -%}
    found.dataset, found.record_key, found.column_name, found.delivered_value, found.problem,
    found.request_type, found.evidence, found.suggested_value, catalogue.department
{%- endmacro %}

{% macro one_char_apart(a, b) -%}
    {#- Two name keys of one length that differ in exactly one character after the surname
        (a character written by sound: 同音字), not two different people's names. -#}
    (length({{ a }}) = length({{ b }}) and left({{ a }}, 1) = left({{ b }}, 1)
     and (select count(*) from generate_series(2, length({{ a }})) as position
          where substr({{ a }}, position, 1) <> substr({{ b }}, position, 1)) = 1)
{%- endmacro %}

{% macro person_records(kind) -%}
    {#- Person observations (as obs) with their delivered `kind` column (person_column) and
        the golden record of the person each resolved to (golden), for the problem models. -#}
    {{ ref('int_person_observations') }} as obs
    inner join {{ person_column_values(kind) }}
        on person_column.dataset = obs.dataset
        and person_column.role = coalesce(substring(obs.record_key from '#([A-Z]+)$'), '')
    left join {{ source('resolve', 'person_record') }} as resolved
        on resolved.dataset = obs.dataset and resolved.record_key = obs.record_key
    left join {{ ref('natural_person') }} as golden on golden.person_id = resolved.person_id
{%- endmacro %}
