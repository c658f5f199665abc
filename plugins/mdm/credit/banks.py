"""Banks as consumers of the credit profile: a bank reads ``share.<bank>__credit_profile``.

A bank is registered once (``credit.bank``: consumer name and the credit code its
authorisations name) and gets a share grant (``mdm.access.sharing``: its role
``mdm_share_<bank>``, a view per grant, the clock-checked, append-only read log of ADR 0012)
on its own filtered view ``mdm.bank_credit_profile__<bank>``. That view holds only the
enterprises with a live authorisation (``xyd_sq``) for the bank, compared with
``clock_timestamp()`` at every read (a withdrawal arrives with the next delivery; an expiry
needs nobody), and of each only the columns of the scopes authorised (others null).

The filtered views read the dbt tables of schema ``credit``, which dbt rebuilds: they are
made again after every credit build (``ensure_bank_views``); in between, a bank's read fails
(the view it reads through is missing), never shows more.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import psycopg
from psycopg import sql

from mdm.access import sharing
from mdm.access.roles import share_role
from mdm.credit.scopes import IDENTITY, SCOPES, bank_columns

logger = logging.getLogger(__name__)

DATASET = "credit_profile"  # the share grants' dataset: view share.<bank>__credit_profile
VIEW_SCHEMA = "mdm"  # where grant_share may read (mdm, staging); the views are ours


def filtered_view(consumer: str) -> str:
    share_role(consumer)  # checks the name
    return f"{VIEW_SCHEMA}.bank_credit_profile__{consumer}"


def view_statement(consumer: str, bank_uscc: str) -> sql.Composed:
    """``create or replace view`` of a bank's filtered profile (pure: no database)."""
    scoped = [
        sql.SQL("case when {} = any(live.scopes) then profile.{} end as {}").format(
            sql.Literal(scope), sql.Identifier(column), sql.Identifier(column)
        )
        for scope, columns in SCOPES.items()
        for column in columns
    ]
    identity = [sql.SQL("profile.{}").format(sql.Identifier(c)) for c in IDENTITY]
    schema, name = filtered_view(consumer).split(".")
    return sql.SQL(
        """create or replace view {view} as
with live as (
    -- the bank's authorisations live now, by the clock at this read, not the transaction's
    select authorisation.legal_person_id,
           array_agg(distinct scope order by scope) as scopes,
           max(authorisation.valid_until) as authorised_until,
           array_agg(distinct authorisation.authorisation_id) as authorisation_ids
    from credit.bank_authorisation as authorisation
    cross join lateral unnest(authorisation.scopes) as scope
    where authorisation.bank_uscc = {bank} and authorisation.status = 'granted'
      and authorisation.expires_at > clock_timestamp() and scope = any({scopes})
    group by authorisation.legal_person_id
)
select {identity}, live.scopes as authorised_scopes, live.authorised_until,
       live.authorisation_ids, {scoped}
from live
join credit.enterprise_profile as profile using (legal_person_id)"""
    ).format(
        view=sql.Identifier(schema, name),
        bank=sql.Literal(bank_uscc),
        scopes=sql.Literal(list(SCOPES)),
        identity=sql.SQL(", ").join(identity),
        scoped=sql.SQL(",\n       ").join(scoped),
    )


def _make_view(conn: psycopg.Connection, consumer: str, bank_uscc: str) -> None:
    schema, name = filtered_view(consumer).split(".")
    conn.execute(view_statement(consumer, bank_uscc))
    # Only the share functions' owner reads it (they log every read); no analyst, no bank.
    conn.execute(
        sql.SQL("revoke all on {} from public, mdm_steward").format(sql.Identifier(schema, name))
    )
    conn.execute(
        sql.SQL("grant select on {} to {}").format(
            sql.Identifier(schema, name), sql.Identifier(sharing.OWNER)
        )
    )


def ensure_bank_views(conn: psycopg.Connection) -> int:
    """(Re)make every registered bank's filtered view; run after each build of schema credit."""
    if conn.execute("select to_regclass('credit.enterprise_profile')").fetchone() == (None,):
        return 0
    banks = conn.execute("select consumer, bank_uscc from credit.bank order by consumer").fetchall()
    with conn.transaction():
        for consumer, bank_uscc in banks:
            _make_view(conn, consumer, bank_uscc)
    return len(banks)


def register_bank(
    conn: psycopg.Connection,
    consumer: str,
    bank_uscc: str,
    bank_name: str,
    expires: dt.datetime,
    purpose: str = "信易贷: credit profiles of enterprises that authorised the bank",
) -> int:
    """Register a bank (or its new credit code or name), make its filtered view and grant its
    role the view ``share.<consumer>__credit_profile`` until ``expires`` (the bank's agreement
    with the platform; each enterprise's authorisation limits it further). Returns the grant id."""
    with conn.transaction():
        conn.execute(
            """insert into credit.bank (consumer, bank_uscc, bank_name) values (%s, %s, %s)
               on conflict (consumer) do update
               set bank_uscc = excluded.bank_uscc, bank_name = excluded.bank_name""",
            (consumer, bank_uscc, bank_name),
        )
        _make_view(conn, consumer, bank_uscc)
    target = sharing.Shareable(DATASET, "有条件共享", filtered_view(consumer))
    return sharing.grant(conn, consumer, DATASET, bank_columns(), purpose, expires, target=target)


def list_banks(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Each bank with its grants (view, until, reads) and its authorisations (live now, all)."""
    rows = conn.execute(
        """select b.consumer, b.bank_uscc, b.bank_name,
                  (select count(*) from credit.bank_authorisation a
                   where a.bank_uscc = b.bank_uscc and a.status = 'granted'
                     and a.expires_at > clock_timestamp()),
                  (select count(*) from credit.bank_authorisation a
                   where a.bank_uscc = b.bank_uscc),
                  coalesce((select jsonb_agg(jsonb_build_object(
                              'grant_id', g.grant_id, 'view', g.view_name,
                              'expires_at', g.expires_at, 'revoked_at', g.revoked_at,
                              'reads', (select count(*) from access.share_read_log l
                                        where l.grant_id = g.grant_id),
                              'rows_read', (select coalesce(sum(l.row_count), 0)
                                            from access.share_read_log l
                                            where l.grant_id = g.grant_id),
                              'last_read', (select max(l.read_at) from access.share_read_log l
                                            where l.grant_id = g.grant_id)) order by g.grant_id)
                            from access.share_grant g
                            where g.consumer = b.consumer and g.dataset = %s), '[]'::jsonb)
           from credit.bank b order by b.consumer""",
        (DATASET,),
    ).fetchall()
    return [
        {
            "consumer": consumer,
            "bank_uscc": uscc,
            "bank_name": name,
            "live_authorisations": live,
            "authorisations": total,
            "grants": grants,
        }
        for consumer, uscc, name, live, total, grants in rows
    ]
