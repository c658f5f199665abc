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
)
# Run id and load time are the delivery's, in ops.delivery: one join away, not a column per row.


def data_columns(spec: Dataset) -> list[str]:
    """The delivered columns as raw keeps them: lower case, registry order."""
    return [c.name.lower() for c in spec.columns]


def ensure_all_raw_tables(conn: psycopg.Connection) -> None:
    """Every registry dataset's raw table, so staging builds before a dataset's first delivery."""
    from mdm.registry import datasets

    for spec in datasets().values():
        ensure_raw_table(conn, spec)
    conn.commit()


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


def create_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> sql.Composed:
    """A fresh, detached table shaped like the partition of ``delivery_id``.

    No CHECK constraint for the partition bound: checking it per row during
    COPY costs more than the one scan ATTACH PARTITION does to validate it.
    """
    name = partition_name(spec, delivery_id)
    table = sql.SQL("raw.{}").format(sql.Identifier(name))
    _refuse_if_attached(conn, spec, delivery_id)
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    conn.execute(
        sql.SQL("create table {} (like raw.{} including defaults)").format(
            table, sql.Identifier(spec.code)
        )
    )
    conn.execute(
        sql.SQL("alter table {} alter column _delivery_id set default {}").format(
            table, sql.Literal(delivery_id)
        )
    )
    return table


def analyze_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    """Statistics for the planner before the batch is read (staging joins on these rows)."""
    conn.execute(
        sql.SQL("analyze raw.{}").format(sql.Identifier(partition_name(spec, delivery_id)))
    )


def attach_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    """Make a loaded batch part of ``raw.<dataset>``."""
    name = partition_name(spec, delivery_id)
    conn.execute(
        sql.SQL("alter table raw.{} alter column _line drop default").format(sql.Identifier(name))
    )
    conn.execute(sql.SQL("drop sequence if exists raw.{}").format(sql.Identifier(name + "_line")))
    conn.execute(
        sql.SQL("alter table raw.{} attach partition raw.{} for values in ({})").format(
            sql.Identifier(spec.code), sql.Identifier(name), sql.Literal(delivery_id)
        )
    )


def drop_batch_table(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    name = partition_name(spec, delivery_id)
    _refuse_if_attached(conn, spec, delivery_id)
    conn.execute(sql.SQL("drop table if exists raw.{}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("drop sequence if exists raw.{}").format(sql.Identifier(name + "_line")))


def _refuse_if_attached(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> None:
    """A batch table is only ever dropped while detached: dropping an attached one would
    silently delete a loaded delivery's rows from ``raw``."""
    if is_attached(conn, spec, delivery_id):
        raise RuntimeError(
            f"{spec.code}/{delivery_id}: raw.{partition_name(spec, delivery_id)} is already "
            "attached to raw (a loaded delivery); refusing to drop or replace it"
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


def set_batch_defaults(
    conn: psycopg.Connection,
    spec: Dataset,
    delivery_id: str,
    file: str,
    operation: str | None,
) -> None:
    """Defaults for the next file COPYed into a batch table.

    Its name, a full delivery's operation (F), and line numbers from 2 in
    arrival order, for a file COPYed as delivered (one record per line).
    """
    name = partition_name(spec, delivery_id)
    sequence = sql.SQL("raw.{}").format(sql.Identifier(name + "_line"))
    conn.execute(sql.SQL("create sequence if not exists {} cache 1000").format(sequence))
    conn.execute(sql.SQL("alter sequence {} restart with 2").format(sequence))
    conn.execute(
        sql.SQL(
            "alter table raw.{t} alter column _file set default {f}, "
            "alter column _operation set default {o}, "
            "alter column _line set default nextval({s})"
        ).format(
            t=sql.Identifier(name),
            f=sql.Literal(file),
            o=sql.Literal(operation),
            s=sql.Literal(f"raw.{name}_line"),
        )
    )
