-- Found (issue 21): a required value missing (MISSING_REQUIRED) in a live source record: a
-- column the interface standard marks required (plugins/mdm/registry/datasets.yaml) blank in
-- the record's current row. The record key
-- and GXSJ every loaded row has (ingestion quarantines a row without them), and a delete
-- guarantees only its key, so neither is checked; jcfk (the departments' answers) neither.
{#- dataset: (its staging model of live records, the required columns other than the record
    key, GXSJ and the delete flags). A unit test keeps it equal to the registry. -#}
{%- set required = {
    'gat_czrk': ('stg_gat_czrk__residents', ['gmsfhm', 'xm']),
    'mzt_hydj': ('stg_mzt_hydj__marriages', ['ywlx', 'djrq', 'nan_xm', 'nv_xm']),
    'swj_grnsr': ('stg_swj_grnsr__taxpayers', ['xm']),
    'rst_cbry': ('stg_rst_cbry__insured', ['xm']),
    'wjw_csyxzm': ('stg_wjw_csyxzm__birth_certificates', ['mqxm']),
    'jyt_xsxj': ('stg_jyt_xsxj__students', ['xm']),
    'scjgj_qydj': ('stg_scjgj_qydj__enterprises', ['entname']),
    'bb_sydwdj': ('stg_bb_sydwdj__public_institutions', ['dwmc']),
    'mzt_shzz': ('stg_mzt_shzz__social_organisations', ['zzmc']),
    'swj_dwnsr': ('stg_swj_dwnsr__taxpayers', ['nsrmc']),
    'sft_jgdj': ('stg_sft_jgdj__institutions', ['jgmc', 'jglx']),
    'sft_zyry': ('stg_sft_zyry__practitioners', ['xm', 'zylb']),
    'dzzz_zzxx': ('stg_dzzz_zzxx__certificates', ['zzlxdm', 'czztmc']),
    'gjj_dwjc': ('stg_gjj_dwjc__accounts', ['dwmc']),
    'sdq_jfxx': ('stg_sdq_jfxx__bills', ['nylx', 'yhmc']),
    'xyb_xzcf': ('stg_xyb_xzcf__penalties', ['cfjdswh', 'xdrmc', 'xdrlb']),
    'fy_sxbzxr': ('stg_fy_sxbzxr__debtors', ['bzxrmc', 'bzxrlx']),
    'xyd_sq': ('stg_xyd_sq__authorisations', ['tyshxydm', 'yhdm', 'sqfw', 'yxqz', 'sqzt']),
} %}
with
{%- for ds, spec in required.items() %}
{{ ds }}_current as (
    -- each live record's current row: the last line for its key in its current delivery
    select distinct on (live.record_key)
        live.record_key,
        raw_row._operation
        {%- for col in spec[1] %},
        nullif(btrim(raw_row.{{ col }}), '') is null as missing_{{ col }}
        {%- endfor %}
    from {{ ref(spec[0]) }} as live
    inner join {{ source('raw', ds) }} as raw_row
        on raw_row._delivery_id = live.delivery_id
        and {{ raw_record_key(ds, 'raw_row') }} = live.record_key
    order by live.record_key, length(raw_row._file) desc, raw_row._file desc,
             raw_row._line desc
),
{%- endfor %}

found as (
    {%- for ds, spec in required.items() %}
    {%- set outer_loop = loop %}
    {%- for col in spec[1] %}
    select
        '{{ ds }}'::text as dataset,
        record_key,
        '{{ col }}'::text as column_name,
        ''::text as delivered_value,
        'a required value is missing: {{ col | upper }}'::text as problem,
        'MISSING_REQUIRED'::text as request_type,
        'the interface standard requires {{ col | upper }} in every record'::text as evidence,
        null::text as suggested_value
    from {{ ds }}_current
    where missing_{{ col }} and coalesce(_operation, '') <> 'D'
    {{ "union all" if not (outer_loop.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}
)

select {{ problem_columns() }}
from found
inner join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = found.dataset
