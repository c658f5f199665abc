"""Conditional sharing (有条件共享): a view per grant, with exactly the granted columns.

``grant`` records who gets what, why and until when in ``access.share_grant``
and creates ``share.<consumer>__<dataset>``, readable only by the consumer's
role ``mdm_share_<consumer>``. The view reads through a function that

- refuses once the grant is revoked or expired (no manual step needed), and
- logs every read (login user, view, time, rows) in ``access.share_read_log``.

``expire`` (run by the daily chain) also drops the views of expired grants.
Datasets marked 不予共享 in the registry cannot be granted.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from mdm.access.roles import ensure_role, share_role
from mdm.registry import datasets, repositories

logger = logging.getLogger(__name__)

NOT_SHAREABLE = "不予共享"


class ShareRefusedError(ValueError):
    """The grant is not allowed (not shareable, unknown column, expiry in the past)."""


@dataclass(frozen=True)
class Shareable:
    name: str
    share_type: str
    relation: str  # schema.table the view reads


def shareable(name: str) -> Shareable:
    """A repository (natural_person, ...) or a source dataset (its staging view)."""
    if name in repositories():
        spec = repositories()[name]
        return Shareable(name, spec["share_type"], spec["relation"])
    if name in datasets():
        source = datasets()[name]
        stage = f"staging.{_staging_model(name)}"
        return Shareable(name, source.catalogue["share_type"], stage)
    raise ShareRefusedError(f"unknown dataset {name!r}")


def _staging_model(code: str) -> str:
    from mdm.settings import DBT_PROJECT_DIR

    matches = sorted((DBT_PROJECT_DIR / "models" / "staging" / "raw").glob(f"stg_{code}__*.sql"))
    if not matches:
        raise ShareRefusedError(f"no staging model for {code}")
    return matches[0].stem


def _columns(conn: psycopg.Connection, relation: str) -> dict[str, str]:
    schema, table = relation.split(".")
    return {
        name: kind
        for name, kind in conn.execute(
            """select a.attname, format_type(a.atttypid, a.atttypmod)
               from pg_attribute a join pg_class c on c.oid = a.attrelid
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped
               order by a.attnum""",
            (schema, table),
        )
    }


def grant(
    conn: psycopg.Connection,
    consumer: str,
    dataset: str,
    columns: list[str],
    purpose: str,
    expires: dt.datetime,
    granted_by: str,
) -> int:
    """Record the grant and create its view; return the grant id."""
    target = shareable(dataset)
    if target.share_type == NOT_SHAREABLE:
        raise ShareRefusedError(f"{dataset} is {NOT_SHAREABLE} in the resource catalogue")
    if expires <= dt.datetime.now(dt.UTC):
        raise ShareRefusedError(f"expiry {expires.isoformat()} is in the past")
    if not purpose.strip():
        raise ShareRefusedError("a grant needs a purpose")
    available = _columns(conn, target.relation)
    unknown = [c for c in columns if c not in available]
    if unknown or not columns:
        raise ShareRefusedError(
            f"columns {unknown or columns} not in {target.relation}; available: {list(available)}"
        )
    role = share_role(consumer)
    view = f"{consumer}__{dataset}"
    with conn.transaction():
        ensure_role(conn, role)
        row = conn.execute(
            """insert into access.share_grant
                   (consumer, dataset, columns, purpose, granted_by, expires_at, view_name)
               values (%s, %s, %s, %s, %s, %s, %s) returning grant_id""",
            (consumer, dataset, columns, purpose, granted_by, expires, f"share.{view}"),
        ).fetchone()
        grant_id = int(row[0]) if row else 0
        function = sql.Identifier(f"share_{grant_id}")
        conn.execute(
            sql.SQL(
                """create or replace function access.{function}()
                   returns table ({out})
                   language plpgsql security definer set search_path = pg_catalog as $body$
                   declare
                       n bigint;
                   begin
                       if not exists (select 1 from access.share_grant
                                      where grant_id = {gid} and revoked_at is null
                                        and expires_at > now()) then
                           raise exception 'share grant {gid} ({view}) was revoked or has '
                               'expired: ask the data owner for a new grant';
                       end if;
                       return query select {cols} from {relation};
                       get diagnostics n = row_count;
                       insert into access.share_read_log (grant_id, role_name, view_name, row_count)
                       values ({gid}, session_user, {view_literal}, n);
                   end
                   $body$"""
            ).format(
                function=function,
                out=sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(available[c]))
                    for c in columns
                ),
                gid=sql.Literal(grant_id),
                view=sql.SQL(view),
                cols=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns),
                relation=sql.SQL("{}.{} as t").format(
                    *map(sql.Identifier, target.relation.split("."))
                ),
                view_literal=sql.Literal(f"share.{view}"),
            )
        )
        conn.execute(sql.SQL("revoke all on function access.{}() from public").format(function))
        # Functions in a view run with the reader's EXECUTE right; the reader has no USAGE on
        # schema access, so it can only reach the function through its view.
        conn.execute(
            sql.SQL("grant execute on function access.{}() to {}").format(
                function, sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("create or replace view share.{} as select * from access.{}()").format(
                sql.Identifier(view), function
            )
        )
        conn.execute(sql.SQL("grant usage on schema share to {}").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("grant select on share.{} to {}").format(
                sql.Identifier(view), sql.Identifier(role)
            )
        )
    logger.info("grant %d: %s gets %s of %s until %s", grant_id, role, columns, dataset, expires)
    return grant_id


def _drop(conn: psycopg.Connection, grant_id: int, view_name: str) -> None:
    schema, view = view_name.split(".")
    conn.execute(
        sql.SQL("drop view if exists {}.{}").format(sql.Identifier(schema), sql.Identifier(view))
    )
    conn.execute(
        sql.SQL("drop function if exists access.{}()").format(sql.Identifier(f"share_{grant_id}"))
    )


def revoke(conn: psycopg.Connection, grant_id: int, revoked_by: str) -> bool:
    with conn.transaction():
        row = conn.execute(
            """update access.share_grant set revoked_at = now(), revoked_by = %s
               where grant_id = %s and revoked_at is null returning view_name""",
            (revoked_by, grant_id),
        ).fetchone()
        if row:
            _drop(conn, grant_id, row[0])
    return row is not None


def expire(conn: psycopg.Connection) -> list[int]:
    """Drop the views of expired grants (they already refuse reads); return their ids."""
    expired = conn.execute(
        """select grant_id, view_name from access.share_grant
           where revoked_at is null and expires_at <= now()"""
    ).fetchall()
    with conn.transaction():
        for grant_id, view_name in expired:
            _drop(conn, grant_id, view_name)
            conn.execute(
                """update access.share_grant set revoked_at = now(), revoked_by = 'expired'
                   where grant_id = %s""",
                (grant_id,),
            )
    return [g for g, _ in expired]


def list_grants(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        """select g.grant_id, g.consumer, g.dataset, g.columns, g.purpose, g.granted_by,
                  g.expires_at, g.revoked_at,
                  (select count(*) from access.share_read_log l where l.grant_id = g.grant_id)
           from access.share_grant g order by g.grant_id"""
    ).fetchall()
