-- The resource catalogue with grading (政务数据资源目录, standard 6.3) and the open resources
-- (公共数据开放, 6.2): docs/adr/0023.
--
-- catalogue.resource / catalogue.field hold the static resources (sources, repositories,
-- analyst views, open resources), loaded from plugins/mdm/registry/*.yaml by mdm.catalogue.store
-- on every `mdm db start` / prepare and by DAG mdm_open; the shares are the live grants
-- (view catalogue.share_field). Readable by everyone: the catalogue itself is public.
create schema if not exists catalogue;

create table if not exists catalogue.resource (
    resource_code text primary key,
    resource_key  text not null,   -- dataset code, table, view or open resource name
    kind          text not null check (kind in ('source', 'repository', 'analyst', 'open')),
    name          text not null,
    provider      text not null,
    maintainer    text not null,   -- 指定专人: a post
    summary       text not null,
    share_type    text not null check (share_type in ('无条件共享', '有条件共享', '不予共享')),
    open_type     text not null check (open_type in ('无条件开放', '有条件开放', '不予开放')),
    update_cycle  text not null,
    relation      text not null,   -- schema.table where it lives
    shared_as     text,            -- a source dataset: the staging view a share reads
    detail        jsonb not null default '{}'::jsonb,
    unique (kind, resource_key)
);

create table if not exists catalogue.field (
    resource_code text not null references catalogue.resource on delete cascade,
    position      integer not null,
    field_name    text not null,
    meaning       text not null,
    data_type     text not null,
    grade         smallint not null check (grade between 1 and 4),
    primary key (resource_code, field_name)
);

-- Which grade a share's column has: the catalogued field of the relation it reads; a column
-- of a source's staging view is graded as the source's highest grade (its columns are not
-- catalogued one by one: any source with a grade-4 field needs an approval to be shared).
create or replace function catalogue.column_grade(p_relation text, p_column text)
returns smallint language sql stable set search_path = pg_catalog as $$
    select coalesce(
        (select f.grade from catalogue.resource r join catalogue.field f using (resource_code)
          where r.relation = p_relation and f.field_name = p_column limit 1),
        (select max(f.grade) from catalogue.resource r join catalogue.field f using (resource_code)
          where r.shared_as = p_relation)
    )
$$;

grant usage on schema catalogue to public;
grant select on all tables in schema catalogue to public;
grant execute on function catalogue.column_grade(text, text) to public;

-- The open resources as published (mdm.opendata); readable by everyone (they are public).
create schema if not exists open;
grant usage on schema open to public;
alter default privileges in schema open grant select on tables to public;

-- Every publication of the open resources: its version, files and checksums.
create table if not exists ops.open_publication (
    publication_id bigint generated always as identity primary key,
    version       text not null,      -- YYYYMMDD-NN, the folder's name under the open root
    published_at  timestamptz not null default now(),
    run_id        text not null,
    folder        text not null,
    resources     jsonb not null,      -- code -> rows, sha256 of each file
    withheld      jsonb not null default '{}'::jsonb  -- resource -> why it was not produced
);

-- A share of a grade-4 field needs a recorded approval (审批): grant_share takes it.
alter table access.share_grant add column if not exists approval text;

drop function if exists access.grant_share(text, text, text, text[], text, timestamptz);
create or replace function access.grant_share(
    p_consumer text, p_dataset text, p_relation text, p_columns text[], p_purpose text,
    p_expires timestamptz, p_approval text
) returns bigint
language plpgsql security definer set search_path = pg_catalog as $$
declare
    gid bigint;
    view_name text;
    rel regclass := to_regclass(p_relation);
    reader text := 'mdm_share_' || p_consumer;
    personal text[];
begin
    if p_consumer !~ '^[a-z][a-z0-9_]{0,40}$' or p_dataset !~ '^[a-z][a-z0-9_]{0,60}$' then
        raise exception 'consumer % / dataset %: lower-case letters, digits and _ only',
            p_consumer, p_dataset;
    end if;
    if rel is null or (select relnamespace::regnamespace::text from pg_class where oid = rel)
                      not in ('mdm', 'staging') then
        raise exception 'only repositories (mdm.*) and staging views can be shared, not %', p_relation;
    end if;
    if not exists (select 1 from pg_roles where rolname = reader) then
        raise exception 'role % does not exist: an administrator creates it (`mdm access add-user`)',
            reader;
    end if;
    if p_expires <= clock_timestamp() then
        raise exception 'expiry % is in the past', p_expires;
    end if;
    if coalesce(btrim(p_purpose), '') = '' or coalesce(cardinality(p_columns), 0) = 0 then
        raise exception 'a grant needs a purpose and columns';
    end if;
    select array_agg(c order by c) into personal from unnest(p_columns) as c
     where catalogue.column_grade(rel::text, c) = 4;
    if personal is not null and coalesce(btrim(p_approval), '') = '' then
        raise exception 'columns % are graded 4 (personal sensitive) in the catalogue: a grant '
            'of them needs a recorded approval (--approval <reference>)', personal;
    end if;
    view_name := p_consumer || '__' || p_dataset;
    perform pg_advisory_xact_lock(hashtext('mdm share view ' || view_name));
    gid := nextval(pg_get_serial_sequence('access.share_grant', 'grant_id'));
    if to_regclass(format('share.%I', view_name)) is not null then
        view_name := view_name || '__' || gid;
    end if;
    insert into access.share_grant (grant_id, consumer, dataset, columns, purpose, granted_by,
                                    granted_at, expires_at, view_name, relation, approval)
    overriding system value
    values (gid, p_consumer, p_dataset, p_columns, p_purpose, session_user, clock_timestamp(),
            p_expires, 'share.' || view_name, rel::text, nullif(btrim(p_approval), ''));
    perform access.create_share_reader(gid);
    insert into access.share_grant_event (grant_id, event, detail)
    values (gid, 'grant', jsonb_build_object('consumer', p_consumer, 'dataset', p_dataset,
            'columns', p_columns, 'expires_at', p_expires, 'view', 'share.' || view_name,
            'approval', nullif(btrim(p_approval), ''), 'grade_4_columns', personal));
    return gid;
end
$$;

-- The shares in the catalogue: each share view with its columns, graded as what they read.
create or replace view catalogue.share_field as
select g.grant_id, g.view_name, g.consumer, g.dataset, g.relation, g.expires_at, g.approval,
       c.position::integer as position, c.column_name as field_name,
       coalesce((select f.meaning from catalogue.resource r join catalogue.field f using (resource_code)
                  where r.relation = g.relation and f.field_name = c.column_name limit 1),
                c.column_name) as meaning,
       coalesce((select f.data_type from catalogue.resource r join catalogue.field f using (resource_code)
                  where r.relation = g.relation and f.field_name = c.column_name limit 1),
                'text') as data_type,
       -- a relation not catalogued field by field (a bank's filtered profile: organisations'
       -- credit facts, nobody's personal data) is graded sensitive
       coalesce(catalogue.column_grade(g.relation, c.column_name), 3)::smallint as grade
from access.share_grant g
cross join lateral unnest(g.columns) with ordinality as c (column_name, position)
-- every share view that exists (an expired grant's view refuses reads until `mdm share
-- expire` drops it: it is still published), described by the newest grant of that name
where to_regclass(g.view_name) is not null
  and not exists (select 1 from access.share_grant later
                   where later.view_name = g.view_name and later.grant_id > g.grant_id);
