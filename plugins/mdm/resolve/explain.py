"""Why an entity is what it is: its source records, how each was linked, and the evidence;
and the credit, authorisation and certificate records linked to it (ADR 0017)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mdm.connections import ConnParams, conninfo
from mdm.resolve.entities import EVENT_TABLE, SCHEMA, kind_of_id
from mdm.resolve.links import TABLE as LINKS

logger = logging.getLogger(__name__)


def explain(warehouse: ConnParams, entity_id: str) -> dict[str, Any]:
    try:
        kind = kind_of_id(entity_id)
    except ValueError:  # no entity has that id
        return {"entity_id": entity_id, "records": [], "events": [], "links": []}
    table, column = kind.table(), kind.id_column
    with psycopg.connect(conninfo(warehouse)) as conn, conn.cursor(row_factory=dict_row) as cur:
        records = cur.execute(
            f"""select dataset, record_key, match_method, match_key, match_probability,
                       first_seen_at, resolved_at
                from {table} where {column} = %s order by dataset, record_key""",  # noqa: S608
            (entity_id,),
        ).fetchall()
        events = cur.execute(
            f"""select event, entity_id, into_id, dataset, record_key, evidence, run_id,
                      occurred_at
               from {SCHEMA}.{EVENT_TABLE} where entity_id = %s or into_id = %s
               order by occurred_at, event_id""",  # noqa: S608
            (entity_id, entity_id),
        ).fetchall()
        links = cur.execute(
            f"""select dataset, record_key, link_method, link_probability
                from {SCHEMA}.{LINKS} where entity_id = %s order by dataset, record_key""",  # noqa: S608
            (entity_id,),
        ).fetchall()
    return {"entity_id": entity_id, "records": records, "events": events, "links": links}
