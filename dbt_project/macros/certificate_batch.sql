{#- Incremental expected certificates (ADR 0018's plan, step 1). A build recomputes the
    expected certificates of the business records it must look at again; the others stay.
    A business record is in the batch when
      - its staged row changed (ops.record_change, taken by this build's
        int_record_candidates; a dataset rebuilt whole is recomputed whole),
      - a record of it (the holder, a spouse, a parent, a legal representative, a person in
        charge: <key>#ROLE) belongs to an entity this build touched (int_touched_entities:
        its golden values are the references), or
      - an ID number it carries is, or was until this build, a touched person's (the
        `own_id_number` rule looks at who else holds the number);
    every lawyer when an institution's record changed (the lawyer's institution is found by
    code or by a name one institution has). Everything on a first build, --full-refresh or
    when the record state starts from nothing. int_record_state (which deletes the taken
    changes) is built after this model. -#}

{% macro certificate_batch_ctes() -%}
{#- the business datasets of the certificate types -#}
{%- set business = ['scjgj_qydj', 'mzt_hydj', 'wjw_csyxzm', 'bb_sydwdj', 'mzt_shzz', 'sft_jgdj', 'sft_zyry'] -%}
{%- set quoted = "'" ~ business | join("', '") ~ "'" -%}
{%- set datasets = "(" ~ quoted ~ ")" -%}
certificate_change as (
    select dataset, source_key from {{ source('ops', 'record_change') }}
    where taken_by = '{{ invocation_id }}' and dataset in {{ datasets }}
),

certificate_whole as (
    select dataset from certificate_change where source_key is null
    union
    select 'sft_zyry' where exists (select 1 from certificate_change where dataset = 'sft_jgdj')
    union
    select unnest(array[{{ quoted }}])
    where exists (select 1 from {{ ref('int_touched_entities') }} where kind = 'all')
),

certificate_touched_id as (
    select person.id_number
    from {{ ref('natural_person') }} as person
    join {{ ref('int_touched_entities') }} as touched
        on touched.kind = 'person' and touched.entity_id = person.person_id
    where person.id_number is not null
    {#- the numbers as published by the previous build (read by name, not as a source: a
        source('published') would put this model in the after-publish selection) -#}
    {%- set published = adapter.get_relation(database=this.database, schema='mdm',
                                             identifier='natural_person') %}
    {%- if published %}
    union
    select person.id_number
    from {{ published }} as person
    join {{ ref('int_touched_entities') }} as touched
        on touched.kind = 'person' and touched.entity_id = person.person_id
    where person.id_number is not null
    {%- endif %}
),

certificate_batch as (
    select dataset, source_key from certificate_change where source_key is not null
    union
    select xref.dataset, regexp_replace(xref.record_key, '#[A-Z]+$', '')
    from {{ ref('natural_person_xref') }} as xref
    join {{ ref('int_touched_entities') }} as touched
        on touched.kind = 'person' and touched.entity_id = xref.person_id
    where xref.dataset in {{ datasets }}
    union
    select xref.dataset, xref.record_key
    from {{ ref('legal_person_xref') }} as xref
    join {{ ref('int_touched_entities') }} as touched
        on touched.kind = 'organisation' and touched.entity_id = xref.legal_person_id
    where xref.dataset in {{ datasets }}
    {#- one equi-join per column: `in (a, b)` is an OR, joined by a nested loop -#}
    {%- for dataset, model, column in [
        ('mzt_hydj', 'stg_mzt_hydj__marriages', 'nan_id_number'),
        ('mzt_hydj', 'stg_mzt_hydj__marriages', 'nv_id_number'),
        ('wjw_csyxzm', 'stg_wjw_csyxzm__birth_certificates', 'mq_id_number'),
        ('wjw_csyxzm', 'stg_wjw_csyxzm__birth_certificates', 'fq_id_number')] %}
    union
    select '{{ dataset }}', business.record_key
    from {{ ref(model) }} as business
    join certificate_touched_id as touched on touched.id_number = business.{{ column }}
    {%- endfor %}
    union
    select 'sft_zyry', z.record_key
    from {{ ref('stg_sft_zyry__practitioners') }} as z
    join certificate_touched_id as touched on touched.id_number = z.id_number
)
{%- endmacro %}

{% macro in_certificate_batch(dataset, record_key) -%}
{#- In an incremental run, only the batch's business records of `dataset`; else all (and in
    a unit test, where `this` is none). -#}
{%- if this is not none and is_incremental() -%}
({{ record_key }} in (select source_key from certificate_batch where dataset = '{{ dataset }}')
 or '{{ dataset }}' in (select dataset from certificate_whole))
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{% macro delete_certificate_batch() -%}
{#- pre-hook of int_certificate_expected: drop the batch's expected certificates. -#}
{%- if is_incremental() -%}
with {{ certificate_batch_ctes() }}
delete from {{ this }} as expected
where expected.business_dataset in (select dataset from certificate_whole)
   or (expected.business_dataset, expected.business_record_key)
      in (select dataset, source_key from certificate_batch)
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{#- Incremental structured checks (ADR 0018's plan, step 2). A certificate's check reads its
    library row, its match (holder, duplicate), its expected certificate (references, in
    force, department) and its type's surface fields; a fingerprint of those inputs per
    matched certificate is kept in int_certificate_check_state, built after the checks. A
    build re-checks the certificates whose fingerprint changed, appeared or went (a
    certificate no longer matched loses its rows). Everything when there is no state yet. -#}

{% macro certificate_check_inputs() -%}
select
    library.record_key,
    md5(row(library.certificate_type, library.status, library.surface_fields,
            matched.holder_record_key, matched.duplicate_of, expected.reference,
            expected.in_force, expected.department, surface.fields)::text) as fingerprint
from {{ ref('stg_dzzz_zzxx__certificates') }} as library
join {{ ref('int_certificate_matches') }} as matched using (record_key)
join {{ ref('int_certificate_expected') }} as expected
    on expected.certificate_type = matched.certificate_type
    and expected.holder_record_key = matched.holder_record_key
left join (
    select certificate_type, jsonb_agg(to_jsonb(field) order by field.field) as fields
    from {{ ref('certificate_surface_field') }} as field
    group by certificate_type
) as surface on surface.certificate_type = library.certificate_type
{%- endmacro %}

{% macro certificate_check_state() -%}
{{ return(adapter.get_relation(database=this.database, schema=this.schema,
                               identifier='int_certificate_check_state')) }}
{%- endmacro %}

{% macro certificate_checks_incremental() -%}
{{ return(this is not none and is_incremental() and certificate_check_state() is not none) }}
{%- endmacro %}

{% macro certificate_check_batch_ctes() -%}
check_input as (
    {{ certificate_check_inputs() }}
),

check_batch as (
    select record_key from (
        select record_key, fingerprint from check_input
        except
        select record_key, fingerprint from {{ certificate_check_state() }}
    ) as new_or_changed
    union
    select record_key from (
        select record_key, fingerprint from {{ certificate_check_state() }}
        except
        select record_key, fingerprint from check_input
    ) as changed_or_gone
)
{%- endmacro %}

{% macro delete_certificate_check_batch() -%}
{#- pre-hook of int_certificate_checks: drop the rows of the certificates to re-check (all of
    them when there is no state to compare with). -#}
{%- if certificate_checks_incremental() -%}
with {{ certificate_check_batch_ctes() }}
delete from {{ this }} where record_key in (select record_key from check_batch)
{%- elif is_incremental() -%}
delete from {{ this }}
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}
