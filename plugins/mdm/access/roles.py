"""The platform's database roles, created and kept in step by our code.

Group roles (NOLOGIN); people log in as their own users made members of one
(`mdm access add-user`):

- ``mdm_engineer``: runs the pipeline, all privileges on the platform's schemas;
- ``mdm_steward``: reads identities (raw, staging, resolve, mdm) and records
  override decisions in ``resolve``;
- ``mdm_analyst``: reads schema ``analyst`` only (masked views, pseudonyms);
- ``mdm_share_<consumer>``: one per consuming department, reads only its own
  sharing views in schema ``share`` (created by a share grant); its sessions get
  statement and idle-in-transaction timeouts.

The share bookkeeping (grants, their events, the read log) belongs to
``mdm_access_owner`` (see ``mdm.access.sharing.ensure_share_security``).
"""

from __future__ import annotations

import logging
import re

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

ENGINEER, STEWARD, ANALYST = "mdm_engineer", "mdm_steward", "mdm_analyst"
PLATFORM_SCHEMAS = (
    "raw", "ops", "quarantine", "staging", "intermediate", "resolve", "mdm", "mdm_history",
    "analyst", "quality", "access", "share", "std", "credit",
)  # fmt: skip
STEWARD_READS = ("raw", "staging", "intermediate", "resolve", "mdm", "mdm_history", "quality")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# Share sessions: a bulk read may take minutes; an open transaction must not hold a view
# (and so a revoke's DROP) for long.
SHARE_SESSION_LIMITS = {"statement_timeout": "30min", "idle_in_transaction_session_timeout": "1min"}


def share_role(consumer: str) -> str:
    if not _NAME.match(consumer):
        raise ValueError(f"consumer {consumer!r}: lower-case letters, digits and _ only")
    return f"mdm_share_{consumer}"


def ensure_role(conn: psycopg.Connection, role: str) -> None:
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        logger.info("created role %s", role)
        if role.startswith("mdm_share_"):
            limit_share_sessions(conn, role)


def limit_share_sessions(conn: psycopg.Connection, role: str) -> None:
    """Timeouts for a share role and its login users (role settings are not inherited, so
    each member gets them too). Needs CREATEROLE."""
    members = [
        row[0]
        for row in conn.execute(
            """select m.rolname from pg_auth_members a
               join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member
               where g.rolname = %s""",
            (role,),
        )
    ]
    for name in (role, *members):
        for setting, value in SHARE_SESSION_LIMITS.items():
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)
                )
            )


def ensure_roles(conn: psycopg.Connection) -> None:
    """Create the group roles and set their privileges (idempotent; needs CREATEROLE)."""
    for role in (ENGINEER, STEWARD, ANALYST):
        ensure_role(conn, role)
    for schema in PLATFORM_SCHEMAS:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("grant all on schema {} to mdm_engineer").format(ident))
        conn.execute(sql.SQL("grant all on all tables in schema {} to mdm_engineer").format(ident))
        conn.execute(
            sql.SQL(
                "alter default privileges in schema {} grant all on tables to mdm_engineer"
            ).format(ident)
        )
    # Functions are executable by PUBLIC by default; std and access functions are harmless
    # (masking, standardising) but the schema usage is what gates them.
    for schema in STEWARD_READS:
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("grant usage on schema {} to mdm_steward").format(ident))
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to mdm_steward").format(ident)
        )
        conn.execute(
            sql.SQL(
                "alter default privileges in schema {} grant select on tables to mdm_steward"
            ).format(ident)
        )
    conn.execute("grant usage on schema std to mdm_steward")
    conn.execute("grant insert, update on resolve.steward_decision to mdm_steward")
    conn.execute("grant usage on schema analyst to mdm_analyst, mdm_steward")
    conn.execute("grant select on all tables in schema analyst to mdm_analyst, mdm_steward")
    conn.execute("alter default privileges in schema analyst grant select on tables to mdm_analyst")
    # Nobody but the owner creates objects in public.
    conn.execute("revoke create on schema public from public")
    from mdm.access.sharing import ensure_share_security

    ensure_share_security(conn)
    conn.commit()


def add_user(conn: psycopg.Connection, user: str, role: str, password: str | None) -> None:
    """A login user in one of the group roles (the password comes from the caller, never
    from the repository)."""
    if not _NAME.match(user):
        raise ValueError(f"user {user!r}: lower-case letters, digits and _ only")
    if role not in (ENGINEER, STEWARD, ANALYST) and not role.startswith("mdm_share_"):
        raise ValueError(f"unknown role {role!r}")
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (user,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(user)))
    if password is not None:
        conn.execute(
            sql.SQL("alter role {} password {}").format(sql.Identifier(user), sql.Literal(password))
        )
    conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(user)))
    if role.startswith("mdm_share_"):
        limit_share_sessions(conn, role)
    conn.commit()
