"""``raw.<dataset>``: every delivered value as text, plus lineage, derived from the registry.

Each raw table is partitioned by delivery: a delivery is loaded into a table of
its own, checked, and attached as a partition in the transaction that marks it
loaded in the ledger. So a delivery is in ``raw`` whole or not at all, a
rejected one is dropped without touching the others, and reloading one replaces
exactly its rows.
"""

from __future__ import annotations

import logging
import re

import psycopg
from psycopg import sql

from mdm.registry import Dataset

logger = logging.getLogger(__name__)

LINEAGE_COLUMNS = (
    ("_delivery_id", "text not null"),
    ("_file", "text not null"),
    ("_line", "integer not null"),
    ("_operation", "text not null"),  # F row of a full delivery; I/U/D of a delta; U/D of a pull
    ("_run_id", "text"),
    ("_loaded_at", "timestamptz not null default now()"),
)


def data_columns(spec: Dataset) -> list[str]:
    """The delivered columns as raw keeps them: lower case, registry order."""
    return [c.name.lower() for c in spec.columns]


def partition_name(spec: Dataset, delivery_id: str) -> str:
    suffix = re.sub(r"[^a-z0-9]+", "_", delivery_id.lower()).strip("_")
    return f"{spec.code}__{suffix}"


def ensure_raw_table(conn: psycopg.Connection, spec: Dataset) -> None:
    """Create ``raw.<dataset>`` if missing; add columns the registry gained since."""
    columns = [sql.SQL("{} text").format(sql.Identifier(c)) for c in data_columns(spec)]
    columns += [sql.SQL("{} " + ddl).format(sql.Identifier(c)) for c, ddl in LINEAGE_COLUMNS]
    conn.execute(
        sql.SQL("create table if not exists raw.{} ({}) partition by list (_delivery_id)").format(
            sql.Identifier(spec.code), sql.SQL(", ").join(columns)
        )
    )
    for column in data_columns(spec):
        conn.execute(
            sql.SQL("alter table raw.{} add column if not exists {} text").format(
                sql.Identifier(spec.code), sql.Identifier(column)
            )
        )
    conn.execute(
        sql.SQL("comment on table raw.{} is {}").format(
            sql.Identifier(spec.code),
            sql.Literal(
                f"{spec.title} ({spec.provider}): every delivered value as text, "
                "one partition per delivery; lineage in the _-prefixed columns."
            ),
        )
    )


def create_batch_table(
    conn: psycopg.Connection, spec: Dataset, delivery_id: str, run_id: str
) -> sql.Composed:
    """A fresh, detached table shaped like the partition of ``delivery_id``.

    The CHECK constraint matches the partition bound, so attaching it later
    does not scan the rows again.
    """
    name = partition_name(spec, delivery_id)
    table = sql.SQL("raw.{}").format(sql.Identifier(name))
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    conn.execute(
        sql.SQL("create table {} (like raw.{} including defaults)").format(
            table, sql.Identifier(spec.code)
        )
    )
    conn.execute(
        sql.SQL(
            "alter table {t} alter column _delivery_id set default {d}, "
            "alter column _run_id set default {r}, "
            "add constraint {c} check (_delivery_id = {d})"
        ).format(
            t=table,
            d=sql.Literal(delivery_id),
            r=sql.Literal(run_id),
            c=sql.Identifier(f"{name}_bound"),
        )
    )
    return table


def attach_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    """Make a loaded batch part of ``raw.<dataset>``, replacing an older load of it."""
    name = partition_name(spec, delivery_id)
    conn.execute(
        sql.SQL("alter table raw.{} attach partition raw.{} for values in ({})").format(
            sql.Identifier(spec.code), sql.Identifier(name), sql.Literal(delivery_id)
        )
    )


def drop_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    conn.execute(
        sql.SQL("drop table if exists raw.{}").format(
            sql.Identifier(partition_name(spec, delivery_id))
        )
    )


def is_attached(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> bool:
    row = conn.execute(
        """select exists (
               select 1 from pg_inherits i
               join pg_class c on c.oid = i.inhrelid
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'raw' and c.relname = %s)""",
        (partition_name(spec, delivery_id),),
    ).fetchone()
    return bool(row and row[0])
