{% macro current_records(dataset, key_columns) -%}
{#-
    The live state of each source record of `dataset` (see docs/adr/0004):
    the last loaded full delivery and the deltas after it, applied in
    delivery-id, file and line order, so late and out-of-order deliveries land
    where they belong. Files of one delivery apply in the natural order of their
    names (part-2 before part-10); `_line` restarts in each file. A record
    deleted by its last operation (CZBS = D, SCBZ = 1) or absent from the last
    full loaded whole (no quarantined row) is not live (a CZBS = D row of a full is quarantined at ingestion). Front-end pulls have no full: all
    pulls apply.
    The model is incremental (macros/incremental_batch.sql): a run recomputes only the
    records the deliveries it has not applied yet touch.
-#}
{%- if key_columns != source_keys()[dataset] -%}
    {{ exceptions.raise_compiler_error("current_records: key of " ~ dataset ~ " differs from source_keys()") }}
{%- endif -%}
{{ incremental_by_delivery([dataset]) }}
(
    with loaded_delivery as (
        select delivery_id, mode, status
        from {{ ref('stg_ops__delivery') }}
        where dataset = '{{ dataset }}' and status in ('loaded', 'partially_quarantined')
    ),

    -- the full whose absent records end: one loaded whole. A full with a malformed line
    -- quarantined ends none (that record still exists at the source): its rows apply as a
    -- delta's. A D row of a full (delete_in_full) is no malformed line: it says not live.
    last_full as (
        select coalesce(max(delivery_id), '') as delivery_id
        from loaded_delivery
        where mode = 'full' and {{ loaded_whole('loaded_delivery', dataset) }}
    ),

    ranked as (
        select
            raw_row.*,
            row_number() over (
                partition by {% for key in key_columns %}btrim(raw_row.{{ key }}){{ ", " if not loop.last }}{% endfor %}
                order by
                    raw_row._delivery_id desc,
                    length(raw_row._file) desc,
                    raw_row._file desc,
                    raw_row._line desc
            ) as _recency
        from {{ source('raw', dataset) }} as raw_row
        where raw_row._delivery_id >= (select last_full.delivery_id from last_full)
          and {{ in_batch(dataset, raw_record_key(dataset, 'raw_row')) }}
    )

    select * from ranked where _recency = 1 and _operation <> 'D'
)
{%- endmacro %}
