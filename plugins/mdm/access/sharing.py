"""Conditional sharing (有条件共享): a view per grant, with exactly the granted columns.

``grant`` records who gets what, why and until when in ``access.share_grant``
and creates ``share.<consumer>__<dataset>`` (``..__<grant id>`` when an earlier
grant's view holds that name), readable only by the consumer's role
``mdm_share_<consumer>``. The view reads through a function that

- refuses once the grant is revoked or expired, by the clock at read time, and
- logs every read (login user, view, time, rows) in ``access.share_read_log``
  over a loopback dblink connection, so the reader's rollback cannot undo it.

Grants, revokes and expiries go through SECURITY DEFINER functions of
``mdm_access_owner`` (migration 0010), which log them with ``session_user`` in
``access.share_grant_event``; everyone else only reads the bookkeeping.
``expire`` (run by the daily chain) also drops the views of expired grants.
Datasets marked 不予共享 in the registry cannot be granted, and a column the catalogue grades 4
(personal sensitive) only with a recorded approval (ADR 0023). See ADR 0012.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from mdm.access.roles import ENGINEER, ensure_role, limit_share_sessions, share_role
from mdm.connections import params_from_url
from mdm.registry import datasets, repositories

logger = logging.getLogger(__name__)

NOT_SHAREABLE = "不予共享"
OWNER = "mdm_access_owner"  # owns grants, events, read log and the share functions and views
LOG_WRITER = "mdm_share_log_writer"  # the loopback login: may only append to the read log
LOOPBACK_SERVER = "mdm_share_log"  # foreign server (dblink_fdw) named in access.log_share_read
BOOKKEEPING = ("share_grant", "share_read_log", "share_grant_event", "certificate_read_log")
OWNER_FUNCTIONS = (
    "log_share_read(bigint, text, bigint)",
    "create_share_reader(bigint)",
    "drop_share_reader(bigint)",
    "grant_share(text, text, text, text[], text, timestamptz, text)",
    "revoke_share(bigint)",
    "expire_shares()",
)
_SECURITY_LOCK_ID = 0x4D444D5A  # arbitrary: serialises ensure_share_security
ENGINEER_FUNCTIONS = OWNER_FUNCTIONS[3:]  # grant, revoke, expire: logged, never edits


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
    target: Shareable | None = None,
    approval: str | None = None,
) -> int:
    """Record the grant and create its view (as ``mdm_access_owner``); return the grant id.
    The grant is recorded with the connection's ``session_user``. ``target``: what the view
    reads, when not the registry's dataset (a bank's credit profile, mdm.credit.banks).
    ``approval``: the reference of the recorded approval (审批) a grade-4 column needs
    (catalogue grades, docs/adr/0023); ``access.grant_share`` refuses such a grant without."""
    target = target or shareable(dataset)
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
    with conn.transaction():
        try:
            ensure_role(conn, role)
        except psycopg.errors.InsufficientPrivilege as err:
            raise ShareRefusedError(
                f"role {role} does not exist and this database user may not create it: "
                f"ask an administrator to run `mdm access add-user` for {consumer} ({err})"
            ) from err
        try:
            row = conn.execute(
                "select access.grant_share(%s, %s, %s, %s, %s, %s, %s)",
                (consumer, dataset, target.relation, columns, purpose, expires, approval),
            ).fetchone()
        except (psycopg.errors.RaiseException, psycopg.errors.InsufficientPrivilege) as err:
            raise ShareRefusedError(err.diag.message_primary or str(err)) from err
    grant_id = int(row[0]) if row else 0
    logger.info(
        "grant %d: %s gets %s of %s until %s%s",
        grant_id,
        role,
        columns,
        dataset,
        expires,
        f" (approval {approval})" if approval else "",
    )
    return grant_id


def grant_view(conn: psycopg.Connection, grant_id: int) -> str:
    row = conn.execute(
        "select view_name from access.share_grant where grant_id = %s", (grant_id,)
    ).fetchone()
    return str(row[0]) if row else ""


def revoke(conn: psycopg.Connection, grant_id: int) -> bool:
    """End a live grant (logged with the session user); False if there is none."""
    with conn.transaction():
        row = conn.execute("select access.revoke_share(%s)", (grant_id,)).fetchone()
    return bool(row and row[0])


def expire(conn: psycopg.Connection) -> list[int]:
    """Mark expired grants and drop their views (they already refuse reads); return their ids."""
    with conn.transaction():
        return [int(r[0]) for r in conn.execute("select access.expire_shares()").fetchall()]


def list_grants(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        """select g.grant_id, g.consumer, g.dataset, g.columns, g.purpose, g.granted_by,
                  g.expires_at, g.revoked_at,
                  (select count(*) from access.share_read_log l where l.grant_id = g.grant_id),
                  g.view_name
           from access.share_grant g order by g.grant_id"""
    ).fetchall()


# --- ownership, privileges and the log's loopback (run by ensure_roles) -------------------


def ensure_share_security(conn: psycopg.Connection) -> None:
    """Hand the share bookkeeping to ``mdm_access_owner``, leave everyone else read-only,
    rebuild grants made before migration 0010 and (re)make the log's loopback. Idempotent;
    run by the platform's database user (needs CREATEROLE) inside ``ensure_roles``."""
    from mdm.settings import load_settings

    # Concurrent callers (several workers' builds) would race on the same catalog rows.
    conn.execute("select pg_advisory_xact_lock(%s)", (_SECURITY_LOCK_ID,))
    ensure_role(conn, OWNER)
    superuser = conn.execute(
        "select rolsuper from pg_roles where rolname = current_user"
    ).fetchone()
    if not (superuser and superuser[0]):
        # To hand objects to the owner (PostgreSQL 16+ gives a role's creator ADMIN only).
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(OWNER)))
    owner = sql.Identifier(OWNER)
    for table in BOOKKEEPING:
        ident = sql.Identifier("access", table)
        conn.execute(sql.SQL("alter table {} owner to {}").format(ident, owner))
        conn.execute(
            sql.SQL(
                "revoke all on table {} from public, mdm_engineer, mdm_steward, mdm_analyst"
            ).format(ident)
        )
        conn.execute(
            sql.SQL("grant select on table {} to {}").format(ident, sql.Identifier(ENGINEER))
        )
    conn.execute(sql.SQL("grant usage, create on schema access to {}").format(owner))
    conn.execute(sql.SQL("alter schema share owner to {}").format(owner))
    # Engineers create nothing next to the owner's objects (no unlogged share views, no
    # look-alike functions in access).
    conn.execute("revoke create on schema share, access from mdm_engineer")
    for schema in ("mdm", "staging"):  # what grant_share may share
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(ident, owner))
        conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(ident, owner))
        conn.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                ident, owner
            )
        )
    for function in OWNER_FUNCTIONS:
        signature = sql.SQL("access.") + sql.SQL(function)
        conn.execute(sql.SQL("alter function {} owner to {}").format(signature, owner))
        conn.execute(sql.SQL("revoke all on function {} from public").format(signature))
    for function in ENGINEER_FUNCTIONS:
        conn.execute(
            sql.SQL("grant execute on function {} to {}").format(
                sql.SQL("access.") + sql.SQL(function), sql.Identifier(ENGINEER)
            )
        )
    _rebuild_older_grants(conn)
    _ensure_log_loopback(conn, load_settings().share_log_loopback)
    for (role,) in conn.execute(
        r"select rolname from pg_roles where rolname like 'mdm\_share\_%' and not rolcanlogin"
    ).fetchall():
        limit_share_sessions(conn, role)


def _rebuild_older_grants(conn: psycopg.Connection) -> None:
    """Live grants made before migration 0010 read through functions that log in the
    reader's transaction and check now(): rebuild them as the owner, newest first (the old
    code let a second grant take over the first one's view)."""
    older = conn.execute(
        """select g.grant_id, g.dataset, g.relation, g.view_name from access.share_grant g
           where g.revoked_at is null and (g.relation is null or exists (
               select 1 from pg_proc p
               where p.oid = to_regprocedure(format('access.%%I()', 'share_' || g.grant_id))
                 and p.proowner <> %s::regrole))
           order by g.grant_id desc""",
        (OWNER,),
    ).fetchall()
    rebuilt: set[str] = set()
    for grant_id, dataset, relation, view_name in older:
        function = sql.Identifier("access", f"share_{grant_id}")
        conn.execute(sql.SQL("drop function if exists {}() cascade").format(function))
        if view_name in rebuilt:
            continue  # an older grant whose view a later one took over: it had no view left
        if relation is None:
            try:
                relation = shareable(dataset).relation
            except ShareRefusedError as err:
                logger.warning(
                    "share grant %d (%s) is left unreadable: %s; revoke it with "
                    "`mdm share revoke %d`",
                    grant_id,
                    view_name,
                    err,
                    grant_id,
                )
                continue
            conn.execute(
                "update access.share_grant set relation = %s where grant_id = %s",
                (relation, grant_id),
            )
        conn.execute("select access.create_share_reader(%s)", (grant_id,))
        rebuilt.add(view_name)
        logger.info(
            "rebuilt share grant %d (%s) with the logged, clock-checked reader", grant_id, view_name
        )


def _ensure_log_loopback(conn: psycopg.Connection, loopback: str | None) -> None:
    """The foreign server ``mdm_share_log`` that ``access.log_share_read`` connects to.

    Where the server reaches itself: ``MDM_SHARE_LOG_LOOPBACK`` (libpq URL or keywords),
    else the address and port this connection arrived on. Who it logs in as: the user and
    password of ``MDM_SHARE_LOG_LOOPBACK`` if it names them, else ``mdm_share_log_writer``
    with a password generated here on every run and kept only in the user mapping (which
    only the owner and superusers can read). Nothing is committed, nothing is on disk."""
    extension = conn.execute(
        "select extnamespace::regnamespace::text from pg_extension where extname = 'dblink'"
    ).fetchone()
    if extension is None:
        try:
            with conn.transaction():
                conn.execute("create extension dblink schema access")
        except psycopg.Error as err:
            logger.warning(
                "dblink is not available (%s): every share view refuses reads until a DBA "
                "runs `create extension dblink schema access` in the warehouse database",
                str(err).strip(),
            )
            return
    elif extension[0] != "access":
        logger.warning(
            "dblink is installed in schema %s: every share view refuses reads until a DBA "
            "runs `alter extension dblink set schema access`",
            extension[0],
        )
        return
    params = params_from_url(loopback) if loopback else {}
    if not {"host", "port"} <= params.keys():
        here = conn.execute(
            """select host(inet_server_addr()), inet_server_port(), current_database(),
                      split_part(current_setting('unix_socket_directories'), ',', 1)"""
        ).fetchone() or (None, None, None, "")
        params.setdefault("host", here[0] or here[3].strip())
        params.setdefault("port", here[1] or conn.info.port)
        params.setdefault("dbname", here[2])
    params.setdefault("dbname", conn.info.dbname)
    user = params.pop("user", None)
    password = params.pop("password", None)
    if user is None:
        user, password = LOG_WRITER, secrets.token_urlsafe(32)
        if not conn.execute("select 1 from pg_roles where rolname = %s", (user,)).fetchone():
            conn.execute(sql.SQL("create role {} login").format(sql.Identifier(user)))
        conn.execute(
            sql.SQL("alter role {} login password {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
    writer = sql.Identifier(user)
    conn.execute(sql.SQL("grant usage on schema access to {}").format(writer))
    conn.execute(sql.SQL("grant insert on access.share_read_log to {}").format(writer))
    conn.execute(
        sql.SQL(
            "grant select (grant_id, revoked_at, expires_at) on access.share_grant to {}"
        ).format(writer)
    )
    server = sql.Identifier(LOOPBACK_SERVER)
    conn.execute(sql.SQL("drop server if exists {} cascade").format(server))
    conn.execute(
        sql.SQL("create server {} foreign data wrapper dblink_fdw options ({})").format(
            server,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(str(v)))
                for k, v in params.items()
            ),
        )
    )
    mapping = {"user": user} | ({"password": password} if password else {})
    # PUBLIC, because dblink_connect_u runs as the extension's owner; only the owner role
    # (and superusers) have USAGE on the server, so nobody else can use or read it.
    conn.execute(
        sql.SQL("create user mapping for public server {} options ({})").format(
            server,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                for k, v in mapping.items()
            ),
        )
    )
    conn.execute(
        sql.SQL("grant usage on foreign data wrapper dblink_fdw to {}").format(
            sql.Identifier(OWNER)
        )
    )
    conn.execute(sql.SQL("alter server {} owner to {}").format(server, sql.Identifier(OWNER)))
    try:
        # Only a superuser may: then the log connects without the server asking for the
        # password (the embedded server's trust); elsewhere dblink_connect needs it asked.
        with conn.transaction():
            conn.execute(
                sql.SQL(
                    "grant execute on function access.dblink_connect_u(text, text) to {}"
                ).format(sql.Identifier(OWNER))
            )
    except psycopg.errors.InsufficientPrivilege:
        logger.info("dblink_connect_u not granted: the share log's loopback needs a password")
