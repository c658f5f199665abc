-- Issue 16: analysts must not be able to re-identify a person.

-- The analyst view also shows birth_year, sex and the registered-residence division. With
-- those, the old mask (division and last four characters) left about 33 candidate ID numbers
-- per row. Only the division is kept now: a birth year, a division and a sex leave ~180,000
-- candidates. Other lengths (invalid or foreign numbers) are hidden entirely.
create or replace function access.mask_id_number(value text) returns text
language sql immutable parallel safe as $$
    select case when value is null then null
                when length(value) in (15, 18) then substr(value, 1, 6) || repeat('*', length(value) - 6)
                else repeat('*', length(value)) end
$$;

-- An 11-digit mobile keeps its network prefix and last four (10,000 candidates); anything
-- else (a landline, a short value) is hidden entirely: its last four could be most of it.
create or replace function access.mask_phone(value text) returns text
language sql immutable parallel safe as $$
    select case when value is null then null
                when length(value) = 11 then substr(value, 1, 3) || '****' || substr(value, 8, 4)
                else repeat('*', length(value)) end
$$;

-- A person published before its pseudonym is written (between publish and the
-- refresh_access step) is shown with an interim key: a hash of the person id with this
-- random salt. Analysts cannot read schema access, so they cannot compute it back to the
-- person id; the pseudonym replaces it at the next refresh.
create table if not exists access.analyst_key_salt (
    singleton  boolean primary key default true check (singleton),
    salt       text not null
);
insert into access.analyst_key_salt (salt)
select encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')
on conflict do nothing;
comment on table access.analyst_key_salt is
    'Random salt of the interim keys of persons without a pseudonym yet (never granted to analysts).';

-- Stored GX results kept unexpected-value lists (ID numbers, mobiles, person ids): drop them
-- from what is already stored; mdm.ingest.gate.store keeps counts and shares only from now on.
update ops.validation_result as v
set result = jsonb_set(v.result, '{expectations}', (
        select coalesce(jsonb_agg(
                   case when jsonb_typeof(e -> 'result') = 'object'
                        then jsonb_set(e, '{result}', (e -> 'result') - array[
                            'partial_unexpected_list', 'partial_unexpected_counts',
                            'partial_unexpected_index_list', 'unexpected_list',
                            'unexpected_index_list', 'unexpected_index_query', 'details'])
                        else e end order by position), '[]'::jsonb)
        from jsonb_array_elements(v.result -> 'expectations') with ordinality as x(e, position)))
where jsonb_typeof(v.result -> 'expectations') = 'array';
