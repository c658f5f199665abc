"""The entity-event log (``resolve.entity_event``): its one writer.

Every change of a resolved record's entity is an event with its evidence: ``linked`` (the
record moved into ``into_id``), ``retired`` (the id ``entity_id`` was absorbed by
``into_id`` and is never reused), ``split`` (the record left ``entity_id`` for the new
``into_id``). Deterministic merges, Splink, context links and steward decisions all write
through :func:`write_events`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mdm.resolve.entities import EVENT_TABLE, EntityKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntityEvent:
    event: str  # linked, retired, split
    entity_id: str
    into_id: str | None
    evidence: dict[str, Any]
    dataset: str | None = None
    record_key: str | None = None


def write_events(
    conn: psycopg.Connection,
    schema: str,
    kind: EntityKind,
    run_id: str,
    events: Iterable[EntityEvent],
) -> int:
    """Append ``events`` of ``kind`` to the log in ``schema``, in the order given; how many."""
    written = 0
    with conn.cursor().copy(
        f"copy {schema}.{EVENT_TABLE} (entity_kind, event, entity_id, into_id, dataset, "
        "record_key, evidence, run_id) from stdin"
    ) as copy:
        for e in events:
            copy.write_row(
                (
                    kind.event_kind,
                    e.event,
                    e.entity_id,
                    e.into_id,
                    e.dataset,
                    e.record_key,
                    Jsonb(e.evidence),
                    run_id,
                )
            )
            written += 1
    return written
