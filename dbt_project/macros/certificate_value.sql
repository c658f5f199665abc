{#- A certificate's surface value (or a business record's value it is compared with) in the
    form the structured check compares, per kind of field (seed certificate_surface_field):
    names by their matching key, identifiers and codes cleaned, dates as ISO text (a
    datetime by its date), amounts to the cent. The same macro on both sides, so a value
    written another way (traditional characters, a lower-case x, 12.5 for 12.50) agrees. -#}
{% macro certificate_value(kind, value) -%}
    {%- if kind == 'name' -%} {{ function('name_key') }}({{ value }})
    {%- elif kind == 'id' -%}
        {#- the common case first: an 18-character number as the standard writes it -#}
        case when ({{ value }}) ~ '^[0-9]{17}[0-9X]$' then {{ value }}
             when {{ function('normalize_id_number') }}({{ value }}) ~ '^[0-9]{17}[0-9X]$'
             then {{ function('normalize_id_number') }}({{ value }})
             else {{ function('clean_code') }}({{ value }}) end
    {%- elif kind == 'code' -%} {{ function('clean_code') }}({{ value }})
    {%- elif kind == 'date' -%}
        {#- an ISO date as is (std.parse_date is the slowest rule), any other form parsed -#}
        case when left(btrim(({{ value }})::text), 10) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                  and pg_input_is_valid(left(btrim(({{ value }})::text), 10), 'date')
             then left(btrim(({{ value }})::text), 10)
             else {{ function('date_value') }}(left(btrim(({{ value }})::text), 10))::text end
    {%- elif kind == 'amount' -%}
        case when btrim(({{ value }})::text) ~ '^[0-9]+(\.[0-9]+)?$'
             then round(btrim(({{ value }})::text)::numeric, 2)::text end
    {%- elif kind == 'address' -%} {{ function('address_key') }}({{ value }})
    {%- elif kind == 'sex' -%} {{ function('sex_code') }}({{ value }})
    {%- elif kind == 'division' -%} {{ function('division_code') }}({{ value }})
    {%- elif kind == 'licence' -%}
        coalesce({{ function('lawyer_licence_number') }}({{ value }}), {{ function('clean_code') }}({{ value }}))
    {%- else -%} {{ exceptions.raise_compiler_error('certificate_value: unknown kind ' ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- A surface value that is filled but not well formed for its kind, from its key (the
    value as certificate_value gives it, computed once): an ID number or credit code with a
    wrong check character, a date that is no date, an amount that is no number. -#}
{% macro certificate_key_malformed(kind, key) -%}
    {%- if kind == 'id' -%}
        coalesce(({{ key }}) ~ '^[0-9]' and not {{ function('is_valid_id_number') }}({{ key }}), false)
    {%- elif kind == 'code' -%}
        coalesce(case length({{ key }})
            when 18 then not {{ function('is_valid_uscc') }}({{ key }})
            when 9 then not {{ function('is_valid_org_code') }}({{ key }})
            else false end, false)
    {%- elif kind == 'sex' -%} coalesce(({{ key }}) not in ('0', '1', '2', '9'), true)
    {%- else -%} ({{ key }}) is null
    {%- endif -%}
{%- endmacro %}

{#- The values a surface field may agree with (business record, golden record), as a JSON
    array of the kind's form without nulls. A value written "=column" is in that form already
    (a staged name_key, a normalised ID number, a date): no std function is called for it,
    they are most of the cost. ``arrays``: text arrays whose every element may agree (a golden
    record's former names: a certificate issued before a rename). -#}
{% macro certificate_reference(kind, values, arrays=[]) -%}
    to_jsonb(array_remove(array[
        {%- for value in values -%}
        {%- set keyed = '(' ~ value[1:] ~ ')::text' if value.startswith('=') else certificate_value(kind, value) -%}
        {%- if kind in ('id', 'code') %}{{ certificate_reference_usable(kind, keyed) }}{% else %}{{ keyed }}{% endif %}
        {{- ", " if not loop.last }}
        {%- endfor -%}
    ]::text[]
    {%- for names in arrays %}
        || array(select {{ certificate_value(kind, 'former.value') }} from unnest({{ names }}) as former (value))
    {%- endfor %}, null))
{%- endmacro %}

{#- A business record's or golden record's identifier as a reference. One with a wrong check
    character (an 18-character ID number or credit code, a 9-character organization code) is
    read as the number its other characters give, with the right check character: the
    record's slip is its own (raised against the record: problems_id_number,
    problems_credit_code), and a certificate printing the right number agrees with what the
    record means. Passports, registration numbers and other forms stay as they are. -#}
{% macro certificate_reference_usable(kind, key) -%}
    {%- if kind == 'id' -%}
    case when {{ certificate_key_malformed('id', key) }} and ({{ key }}) ~ '^[0-9]{17}'
         then left({{ key }}, 17) || {{ function('id_check_char') }}(left({{ key }}, 17))
         else {{ key }} end
    {%- else -%}
    case when not {{ certificate_key_malformed('code', key) }} then {{ key }}
         when length({{ key }}) = 18 then left({{ key }}, 17) || {{ function('uscc_check_char') }}(left({{ key }}, 17))
         else left({{ key }}, 8) || {{ function('org_code_check_char') }}(left({{ key }}, 8)) end
    {%- endif -%}
{%- endmacro %}

{#- A business record's ID number as a reference, unless the resolution gave that number to
    another person than the one the record resolved to (a relative's number typed into the
    record: the record's error, ID_OTHER_PERSON against the record, not the certificate's). -#}
{% macro own_id_number(column, person) -%}
=case when not exists (select 1 from {{ ref('natural_person') }} as other
                   where other.id_number = {{ column }} and other.person_id <> {{ person }}.person_id)
     then {{ column }} end
{%- endmacro %}
