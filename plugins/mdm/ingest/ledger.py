"""The delivery ledger (``ops.delivery``) and its event history (``ops.delivery_event``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

logger = logging.getLogger(__name__)

LOADED = ("loaded", "partially_quarantined")


def lock_key(dataset: str) -> str:
    """The advisory lock (``hashtext`` of this) a loader of ``dataset`` holds while it loads:
    one loader per dataset, and the build's cut (``mdm.build.check_new_data``) waits for it."""
    return f"mdm.ingest.{dataset}"


@dataclass(frozen=True)
class LedgerEntry:
    dataset: str
    delivery_id: str
    mode: str | None
    status: str
    manifest_sha256: str | None
    manifest_mtime_ns: int | None
    error_code: str | None
    error: str | None


def entries(conn: psycopg.Connection, dataset: str) -> dict[str, LedgerEntry]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """select dataset, delivery_id, mode, status, manifest_sha256, manifest_mtime_ns,
                      error_code, error
               from ops.delivery where dataset = %s""",
            (dataset,),
        )
        return {row["delivery_id"]: LedgerEntry(**row) for row in cur.fetchall()}


def record(conn: psycopg.Connection, dataset: str, delivery_id: str, **values: Any) -> None:
    """Set ``values`` (column -> value) on the ledger row of a delivery, creating it if new.

    Callers hold the dataset's advisory lock, so update-then-insert does not race.
    """
    params = {"dataset": dataset, "delivery_id": delivery_id, **values}
    sets = ", ".join(f"{c} = %({c})s" for c in values)
    updated = conn.execute(
        f"update ops.delivery set {sets} "  # noqa: S608 - column names are ours
        "where dataset = %(dataset)s and delivery_id = %(delivery_id)s",
        params,
    ).rowcount
    if not updated:
        columns = ["dataset", "delivery_id", *values]
        conn.execute(
            f"insert into ops.delivery ({', '.join(columns)}) "  # noqa: S608
            f"values ({', '.join('%(' + c + ')s' for c in columns)})",
            params,
        )


def event(
    conn: psycopg.Connection,
    dataset: str,
    delivery_id: str,
    name: str,
    run_id: str | None,
    **detail: Any,
) -> None:
    conn.execute(
        "insert into ops.delivery_event (dataset, delivery_id, event, detail, run_id) "
        "values (%s, %s, %s, %s, %s)",
        (dataset, delivery_id, name, Jsonb(detail), run_id),
    )


def skip(conn: psycopg.Connection, dataset: str, delivery_id: str, run_id: str | None) -> bool:
    """An engineer skips a rejected or blocked delivery, or one stuck in 'loading' (a load
    that keeps failing), which unblocks later deltas. Callers hold the dataset's lock, so
    no load of it is under way; a stuck load's batch table is dropped by the caller."""
    row = conn.execute(
        "update ops.delivery set status = 'skipped', finished_at = now() "
        "where dataset = %s and delivery_id = %s "
        "and status in ('rejected', 'blocked', 'loading') "
        "returning delivery_id, (select status from ops.delivery "
        "where dataset = %s and delivery_id = %s)",
        (dataset, delivery_id, dataset, delivery_id),
    ).fetchone()
    if row:
        event(conn, dataset, delivery_id, "skipped", run_id, by="engineer", was=row[1])
    return row is not None


def reported(
    conn: psycopg.Connection, dataset: str, delivery_id: str, name: str, manifest_sha256: str
) -> bool:
    """Whether event ``name`` was recorded for this manifest of the delivery."""
    row = conn.execute(
        "select exists (select 1 from ops.delivery_event where dataset = %s "
        "and delivery_id = %s and event = %s and detail ->> 'manifest_sha256' = %s)",
        (dataset, delivery_id, name, manifest_sha256),
    ).fetchone()
    return bool(row and row[0])


def now(conn: psycopg.Connection) -> Any:
    """The database's clock (all ledger times come from one clock)."""
    row = conn.execute("select clock_timestamp()").fetchone()
    return row[0] if row else None
