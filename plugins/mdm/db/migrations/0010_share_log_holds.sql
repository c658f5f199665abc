-- Share reads that cannot escape the log, expiry by the clock, grants that never change
-- (ADR 0012). Ownership and privileges are set by mdm.access.sharing.ensure_share_security
-- (it needs the roles); the functions below run as that owner, mdm_access_owner.

-- The read log is written over a loopback dblink connection: its own transaction, which
-- the reader's rollback or savepoint rollback cannot undo. Without dblink (an external
-- server without contrib, or no right to create it) reads are refused, never unlogged.
do $$
begin
    create extension if not exists dblink schema access;
exception when others then
    raise warning 'dblink is not available (%): share views refuse reads until a DBA runs '
        '`create extension dblink schema access` in this database', sqlerrm;
end
$$;

alter table access.share_grant add column if not exists relation text;  -- schema.table shared
comment on column access.share_grant.granted_by is 'session_user of the grant (earlier grants: the OS user of the CLI)';

-- Every change to a grant, with the database user who made it.
create table if not exists access.share_grant_event (
    event_id  bigint generated always as identity primary key,
    grant_id  bigint      not null,
    event     text        not null check (event in ('grant', 'revoke', 'expire')),
    db_user   text        not null default session_user,
    event_at  timestamptz not null default clock_timestamp(),
    detail    jsonb
);
comment on table access.share_grant_event is 'Every grant, revoke and expiry of a share grant, with its session_user.';

-- A grant's terms never change, whoever asks: revoking is the only update, once.
create or replace function access.share_grant_guard() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'access.share_grant keeps every grant: end one with `mdm share revoke`';
    end if;
    if old.revoked_at is not null
       or new.revoked_at is null and new.revoked_by is not null
       or (new.grant_id, new.consumer, new.dataset, new.columns, new.purpose, new.granted_by,
           new.granted_at, new.expires_at, new.view_name)
          is distinct from
          (old.grant_id, old.consumer, old.dataset, old.columns, old.purpose, old.granted_by,
           old.granted_at, old.expires_at, old.view_name)
       or old.relation is not null and new.relation is distinct from old.relation then
        raise exception 'share grant %: a grant''s terms never change; revoke it and grant again',
            old.grant_id;
    end if;
    return new;
end
$$;
drop trigger if exists share_grant_append_only on access.share_grant;
create trigger share_grant_append_only before update or delete on access.share_grant
    for each row execute function access.share_grant_guard();

-- One read, logged over the loopback connection. The insert happens there only while the
-- grant is live by the clock and by what is committed now, so neither an old snapshot nor
-- a transaction opened before the expiry or the revoke can read on.
create or replace function access.log_share_read(p_grant_id bigint, p_view text, p_rows bigint)
returns void
language plpgsql security definer set search_path = pg_catalog as $$
declare
    link constant text := 'mdm_share_log';
    status text;
begin
    -- dblink's own functions, not look-alikes someone created in schema access
    if not exists (select 1 from pg_depend d join pg_extension e on e.oid = d.refobjid
                   where e.extname = 'dblink' and d.deptype = 'e'
                     and d.objid = to_regprocedure('access.dblink_exec(text, text)')) then
        raise exception 'share reads are refused: dblink is missing; a DBA runs '
            '`create extension dblink schema access` in the warehouse database';
    end if;
    if link = any(coalesce(access.dblink_get_connections(), '{}')) then
        perform access.dblink_disconnect(link);
    end if;
    -- dblink_connect_u where a superuser allowed it (the embedded server), else dblink_connect,
    -- which needs the server to ask the loopback user for its password.
    if has_function_privilege('access.dblink_connect_u(text, text)', 'execute') then
        perform access.dblink_connect_u(link, 'mdm_share_log');
    else
        perform access.dblink_connect(link, 'mdm_share_log');
    end if;
    begin
        status := access.dblink_exec(link, format(
            'insert into access.share_read_log (grant_id, role_name, view_name, row_count) '
            'select %s, %L, %L, %s where exists (select 1 from access.share_grant '
            'where grant_id = %s and revoked_at is null and expires_at > clock_timestamp())',
            p_grant_id, session_user, p_view, p_rows, p_grant_id));
    exception when others then
        perform access.dblink_disconnect(link);
        raise;
    end;
    perform access.dblink_disconnect(link);
    if status is distinct from 'INSERT 0 1' then
        raise exception using message = format(
            'share grant %s (%s) was revoked or has expired: ask the data owner for a new grant',
            p_grant_id, p_view);
    end if;
end
$$;

-- The reading function and view of one grant, from its row (also rebuilds older grants).
create or replace function access.create_share_reader(p_grant_id bigint) returns void
language plpgsql security definer set search_path = pg_catalog as $fn$
declare
    g access.share_grant;
    fn text := format('access.%I', 'share_' || p_grant_id);
    reader text;
    out_cols text;
    sel_cols text;
    found_cols bigint;
begin
    select * into strict g from access.share_grant where grant_id = p_grant_id;
    reader := 'mdm_share_' || g.consumer;
    select string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                      order by c.ord),
           string_agg(format('t.%I', a.attname), ', ' order by c.ord),
           count(*)
      into out_cols, sel_cols, found_cols
      from unnest(g.columns) with ordinality as c(name, ord)
      join pg_attribute a on a.attrelid = g.relation::regclass and a.attname = c.name
                         and a.attnum > 0 and not a.attisdropped;
    if found_cols is distinct from cardinality(g.columns)::bigint then
        raise exception 'share grant %: columns % are not all in %', p_grant_id, g.columns, g.relation;
    end if;
    execute format($ddl$
        create or replace function %s() returns table (%s)
        language plpgsql security definer set search_path = pg_catalog as $body$
        declare
            n bigint;
        begin
            -- the clock, not the transaction start (now()): no reading on past the expiry
            if not exists (select 1 from access.share_grant where grant_id = %s
                           and revoked_at is null and expires_at > clock_timestamp()) then
                raise exception using message = %L;
            end if;
            return query select %s from %s as t;
            get diagnostics n = row_count;
            perform access.log_share_read(%s, %L, n);
        end
        $body$ $ddl$,
        fn, out_cols, p_grant_id,
        format('share grant %s (%s) was revoked or has expired: ask the data owner for a new grant',
               p_grant_id, g.view_name),
        sel_cols, g.relation::regclass, p_grant_id, g.view_name);
    execute format('revoke all on function %s() from public', fn);
    -- Functions in a view run with the reader's EXECUTE right; the reader has no USAGE on
    -- schema access, so it reaches the function only through its view.
    execute format('grant execute on function %s() to %I', fn, reader);
    execute format('create or replace view %I.%I as select * from %s()',
                   split_part(g.view_name, '.', 1), split_part(g.view_name, '.', 2), fn);
    execute format('grant usage on schema share to %I', reader);
    execute format('grant select on %I.%I to %I',
                   split_part(g.view_name, '.', 1), split_part(g.view_name, '.', 2), reader);
end
$fn$;

-- Drop a grant's function and with it its own view (nothing else depends on the function).
-- A reader holding the view in an open transaction does not block the revoke: the grant
-- already refuses reads; a later expire_shares() drops what is left.
create or replace function access.drop_share_reader(p_grant_id bigint) returns boolean
language plpgsql security definer set search_path = pg_catalog set lock_timeout = '5s' as $$
begin
    execute format('drop function if exists access.%I() cascade', 'share_' || p_grant_id);
    return true;
exception when lock_not_available then
    raise warning 'share grant %: its view is in use; `mdm share expire` drops it later '
        '(it refuses reads already)', p_grant_id;
    return false;
end
$$;

create or replace function access.grant_share(
    p_consumer text, p_dataset text, p_relation text, p_columns text[], p_purpose text,
    p_expires timestamptz
) returns bigint
language plpgsql security definer set search_path = pg_catalog as $$
declare
    gid bigint;
    view_name text;
    rel regclass := to_regclass(p_relation);
    reader text := 'mdm_share_' || p_consumer;
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
    -- A second grant never takes over the first one's view: it gets its own name.
    view_name := p_consumer || '__' || p_dataset;
    perform pg_advisory_xact_lock(hashtext('mdm share view ' || view_name));
    gid := nextval(pg_get_serial_sequence('access.share_grant', 'grant_id'));
    if to_regclass(format('share.%I', view_name)) is not null then
        view_name := view_name || '__' || gid;
    end if;
    insert into access.share_grant (grant_id, consumer, dataset, columns, purpose, granted_by,
                                    granted_at, expires_at, view_name, relation)
    overriding system value
    values (gid, p_consumer, p_dataset, p_columns, p_purpose, session_user, clock_timestamp(),
            p_expires, 'share.' || view_name, rel::text);
    perform access.create_share_reader(gid);
    insert into access.share_grant_event (grant_id, event, detail)
    values (gid, 'grant', jsonb_build_object('consumer', p_consumer, 'dataset', p_dataset,
            'columns', p_columns, 'expires_at', p_expires, 'view', 'share.' || view_name));
    return gid;
end
$$;

create or replace function access.revoke_share(p_grant_id bigint) returns boolean
language plpgsql security definer set search_path = pg_catalog as $$
begin
    update access.share_grant set revoked_at = clock_timestamp(), revoked_by = session_user
     where grant_id = p_grant_id and revoked_at is null;
    if not found then
        return false;
    end if;
    insert into access.share_grant_event (grant_id, event) values (p_grant_id, 'revoke');
    perform access.drop_share_reader(p_grant_id);
    return true;
end
$$;

create or replace function access.expire_shares() returns setof bigint
language plpgsql security definer set search_path = pg_catalog as $$
declare
    gid bigint;
begin
    for gid in select grant_id from access.share_grant
                where revoked_at is null and expires_at <= clock_timestamp()
                order by grant_id for update loop
        update access.share_grant set revoked_at = clock_timestamp(), revoked_by = session_user
         where grant_id = gid;
        insert into access.share_grant_event (grant_id, event) values (gid, 'expire');
        perform access.drop_share_reader(gid);
        return next gid;
    end loop;
    -- functions (and views) left over by a revoke that found its view in use
    for gid in select grant_id from access.share_grant
                where revoked_at is not null
                  and to_regprocedure(format('access.%I()', 'share_' || grant_id)) is not null loop
        perform access.drop_share_reader(gid);
    end loop;
end
$$;
