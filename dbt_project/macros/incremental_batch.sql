{#-
    Incremental staging and observations (issue 18, ADR 0004). A model that calls
    incremental_by_delivery(datasets) applies only the deliveries of its datasets it has not
    applied yet (ops.model_delivery, written by its post-hook in the transaction that writes
    its rows: a failed build marks nothing, a rerun finds nothing new). Its batch is the set
    of record keys those deliveries touch; the pre-hook deletes them from the model, and the
    model's SQL (filtered by in_batch) recomputes their current state from raw exactly as a
    full build does, so deleted records and late deliveries come out as a full build gives.
    A dataset is rebuilt whole when a full delivery arrived (records absent from it end) or
    when a delivery the model applied is no longer loaded as it was (reloaded, or the warehouse
    reset). --full-refresh builds everything and rewrites the model's ledger.
-#}

{% macro source_keys() -%}
    {#- The record key columns of each raw dataset (the current_records partition). -#}
    {{ return({
        'bb_sydwdj': ['sydwid'], 'gat_czrk': ['rybh'], 'jyt_xsxj': ['xsid'],
        'mzt_hydj': ['ywlsh'], 'mzt_shzz': ['shzzid'], 'rst_cbry': ['grbh', 'xzlx'],
        'scjgj_qydj': ['pripid'], 'swj_dwnsr': ['djxh'], 'swj_grnsr': ['djxh'],
        'wjw_csyxzm': ['cszmbh'],
        'sft_jgdj': ['jgid'], 'sft_zyry': ['ryid'], 'dzzz_zzxx': ['zzbs'], 'gjj_dwjc': ['dwzh'],
        'sdq_jfxx': ['hh', 'zdny'], 'xyb_xzcf': ['xzcfid'], 'fy_sxbzxr': ['ah'],
        'xyd_sq': ['sqid'], 'jcfk': ['jcbh', 'fkxh']}) }}
{%- endmacro %}

{% macro raw_record_key(dataset, alias) -%}
    {#- A raw row's record key as staging writes it (keys joined by _). -#}
    {%- for key in source_keys()[dataset] %}btrim({{ alias }}.{{ key }}){{ " || '_' || " if not loop.last }}{% endfor -%}
{%- endmacro %}

{% macro incremental_by_delivery(datasets, dataset_column=none, records_changed=false) -%}
    {#- Configures the calling model; dataset_column: the model's column naming the dataset
        (none for a model of one dataset). Its record_key is the source record key, or it
        followed by #ROLE. records_changed: an observation model the golden records read;
        its batches go to ops.record_change (the candidates of int_record_candidates), and
        it gets an index on (dataset, record_key) for their lookups. -#}
    {%- set quoted = "['" ~ datasets | join("', '") ~ "']" -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=([{'columns': ['dataset', 'record_key']}] if records_changed else []),
        pre_hook="{{ open_delivery_batch(" ~ quoted ~ ", " ~ (("'" ~ dataset_column ~ "'") if dataset_column else 'none') ~ ") }}",
        post_hook="{{ close_delivery_batch(" ~ (quoted if records_changed else 'none') ~ ") }}") }}
{%- endmacro %}

{% macro applied_as_loaded(ledger) -%}
    exists (
        select 1 from {{ source('ops', 'delivery') }} as loaded
        where loaded.dataset = {{ ledger }}.dataset and loaded.delivery_id = {{ ledger }}.delivery_id
          and loaded.status in ('loaded', 'partially_quarantined')
          and loaded.finished_at is not distinct from {{ ledger }}.finished_at
    )
{%- endmacro %}

{% macro open_delivery_batch(datasets, dataset_column) -%}
    {%- set model = this.identifier -%}
    {%- set in_list = "('" ~ datasets | join("', '") ~ "')" -%}
    create temporary table mdm_batch_delivery on commit drop as
    select delivery.dataset, delivery.delivery_id, delivery.mode, delivery.finished_at
    from {{ source('ops', 'delivery') }} as delivery
    where delivery.dataset in {{ in_list }}
      and delivery.status in ('loaded', 'partially_quarantined')
      {%- if is_incremental() %}
      and not exists (
          select 1 from ops.model_delivery as applied
          where applied.model = '{{ model }}' and applied.dataset = delivery.dataset
            and applied.delivery_id = delivery.delivery_id
            and applied.finished_at is not distinct from delivery.finished_at
      )
      {%- endif %};
    {%- if is_incremental() %}
    create temporary table mdm_batch_rebuild on commit drop as
    select dataset from mdm_batch_delivery where mode = 'full'
    union
    select applied.dataset from ops.model_delivery as applied
    where applied.model = '{{ model }}' and applied.dataset in {{ in_list }}
      and not {{ applied_as_loaded('applied') }};
    create temporary table mdm_batch_key on commit drop as
    {%- for dataset in datasets %}
    select '{{ dataset }}'::text as dataset, {{ raw_record_key(dataset, 'raw_row') }} as record_key
    from {{ source('raw', dataset) }} as raw_row
    where raw_row._delivery_id = any(array(
        select delivery_id from mdm_batch_delivery where dataset = '{{ dataset }}'))
    union
    select '{{ dataset }}', {{ raw_record_key(dataset, 'raw_row') }}
    from {{ source('raw', dataset) }} as raw_row
    where exists (select 1 from mdm_batch_rebuild where dataset = '{{ dataset }}')
      and raw_row._delivery_id >= coalesce((
          select max(full_delivery.delivery_id)
          from {{ source('ops', 'delivery') }} as full_delivery
          where full_delivery.dataset = '{{ dataset }}' and full_delivery.mode = 'full'
            and {{ loaded_whole('full_delivery', dataset) }}), '')
    {{ "union" if not loop.last }}
    {%- endfor %};
    analyze mdm_batch_key;
    {%- if dataset_column %}
    {#- Two deletes, not one with OR: an IN under OR is a subplan that PostgreSQL hashes
        only while the keys fit in work_mem; a full re-delivery at 1M outgrows it and the
        subplan then scans the key table once per target row. #}
    delete from {{ this }} as target
    where target.{{ dataset_column }} in (select dataset from mdm_batch_rebuild);
    delete from {{ this }} as target
    where (target.{{ dataset_column }}, regexp_replace(target.record_key, '#[A-Z]+$', ''))
          in (select dataset, record_key from mdm_batch_key);
    {%- else %}
    delete from {{ this }}
    where exists (select 1 from mdm_batch_rebuild);
    delete from {{ this }}
    where record_key in (select record_key from mdm_batch_key);
    {%- endif %}
    {%- else %}
    delete from ops.model_delivery where model = '{{ model }}';
    {%- endif %}
{%- endmacro %}

{% macro close_delivery_batch(record_change_datasets=none) -%}
    delete from ops.model_delivery as applied
    where applied.model = '{{ this.identifier }}' and not {{ applied_as_loaded('applied') }};
    insert into ops.model_delivery (model, dataset, delivery_id, finished_at)
    select '{{ this.identifier }}', dataset, delivery_id, finished_at from mdm_batch_delivery
    on conflict (model, dataset, delivery_id)
    do update set finished_at = excluded.finished_at, applied_at = now();
    {%- if record_change_datasets %}
    {#- The records this run recomputed: its batch's keys, or every record of a dataset it
        rebuilt whole (source_key null: records absent from a full delivery end too); a full
        build rebuilt every dataset. -#}
    insert into {{ source('ops', 'record_change') }} (model, dataset, source_key)
    {%- if is_incremental() %}
    select '{{ this.identifier }}', dataset, null from mdm_batch_rebuild
    union all
    select '{{ this.identifier }}', dataset, record_key from mdm_batch_key
    where dataset not in (select dataset from mdm_batch_rebuild);
    {%- else %}
    select '{{ this.identifier }}', dataset, null
    from unnest(array['{{ record_change_datasets | join("', '") }}']) as dataset;
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{% macro in_batch(dataset, record_key='record_key') -%}
    {#- In an incremental run, only the batch's records of `dataset`; else every record (and
        in a unit test, where `this` is none and the model is not incremental). -#}
    {%- if this is not none and is_incremental() -%}
    {{ record_key }} in (select record_key from mdm_batch_key where dataset = '{{ dataset }}')
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{% macro loaded_whole(delivery, dataset) -%}
    {#- A loaded delivery (alias `delivery`, with status and delivery_id) with no row
        quarantined but a full's D rows (delete_in_full): a full whose absent records end. -#}
    ({{ delivery }}.status = 'loaded' or ({{ delivery }}.status = 'partially_quarantined'
     and not exists (
        select 1 from quarantine.delivery_row as quarantined
        where quarantined.dataset = '{{ dataset }}'
          and quarantined.delivery_id = {{ delivery }}.delivery_id
          and quarantined.reason_code <> 'delete_in_full')))
{%- endmacro %}
