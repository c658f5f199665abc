"""Reading the entities in play and writing moves into the record tables (with their events).

The decisions themselves are made in ``decision`` (pure Python); this is what they read
from and write to the resolution schema.
"""

from __future__ import annotations

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.decision import InPlay, Move
from mdm.resolve.entities import STEWARD_DECISIONS, EntityKind
from mdm.resolve.events import EntityEvent, write_events


def entities_in_play(
    conn: psycopg.Connection, kind: EntityKind, schema: str, records: set[str]
) -> InPlay:
    """The entity of each record in play, the trusted ones among them, and the pairs of
    entities a steward's cannot-link keeps apart (both ways)."""
    cannot_link = conn.execute(
        f"""select dataset_a, record_key_a, dataset_b, record_key_b
            from {STEWARD_DECISIONS}
            where decision = 'cannot_link' and withdrawn_at is null"""
    ).fetchall()
    in_play = set(records)
    in_play.update(f"{a}|{b}" for a, b, _, _ in cannot_link)
    in_play.update(f"{c}|{d}" for _, _, c, d in cannot_link)
    entity, trusted = _entities(conn, kind, schema, in_play)
    vetoed: set[tuple[str, str]] = set()
    for a, b, c, d in cannot_link:
        first, second = entity.get(f"{a}|{b}"), entity.get(f"{c}|{d}")
        if first and second:
            vetoed.update({(first, second), (second, first)})
    return InPlay(entity, trusted, vetoed)


def _entities(
    conn: psycopg.Connection, kind: EntityKind, schema: str, records: set[str]
) -> tuple[dict[str, str], set[str]]:
    """The entity of each of ``records`` (dataset|record_key), and which of those entities
    are trusted (hold a record with a trusted key). Index lookups: the records in play only,
    not every record, so the daily run stays proportional to what it scores."""
    keys = [record.split("|", 1) for record in sorted(records)]
    entity = {
        f"{d}|{k}": e
        for d, k, e in conn.execute(
            f"select dataset, record_key, {kind.id_column} from {kind.table(schema)}"
            " join unnest(%s::text[], %s::text[]) as play(dataset, record_key)"
            " using (dataset, record_key)",
            ([d for d, _ in keys], [k for _, k in keys]),
        )
    }
    return entity, trusted_entities(conn, kind, schema, set(entity.values()))


def trusted_entities(
    conn: psycopg.Connection, kind: EntityKind, schema: str, entities: set[str]
) -> set[str]:
    """Those of ``entities`` that hold a record with a trusted key."""
    id_column = kind.id_column
    return {
        e
        for (e,) in conn.execute(
            f"select r.{id_column} from {kind.table(schema)} r "
            f"where r.{id_column} = any(%s::text[]) "
            f"group by r.{id_column} having bool_or({kind.trusted_key_sql})",
            (sorted(entities),),
        )
    }


def records_resolved_by(
    warehouse: ConnParams, kind: EntityKind, schema: str, methods: tuple[str, ...]
) -> set[str]:
    """The records (dataset|record_key) resolved with one of ``methods``."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        return {
            record
            for (record,) in conn.execute(
                f"select dataset || '|' || record_key from {kind.table(schema)} "
                "where match_method = any(%s)",
                (list(methods),),
            )
        }


def move_entities(
    conn: psycopg.Connection,
    kind: EntityKind,
    schema: str,
    run_id: str,
    moves: list[Move],
    method: str,
) -> int:
    """Move each source entity into its target, log the events; records moved.

    Set-based: one update whatever the number of links (a statement per link was
    thousands of round trips on a full run), then the events: each moved record
    ``linked``, each source id ``retired``.
    """
    id_column = kind.id_column
    conn.execute("drop table if exists pg_temp.mdm_move")
    conn.execute(
        "create temporary table mdm_move (source text primary key, target text, "
        "record text, probability float8) on commit drop"
    )
    with conn.cursor().copy(
        "copy mdm_move (source, target, record, probability) from stdin"
    ) as copy:
        for move in sorted(moves, key=lambda m: m.source):
            copy.write_row((move.source, move.target, move.record, move.probability))
    conn.execute("analyze mdm_move")
    moved = conn.execute(
        f"""with moved as (
                update {kind.table(schema)} as t
                set {id_column} = m.target, match_method = %(method)s,
                    match_probability = m.probability, resolved_at = now(), run_id = %(run)s
                from mdm_move as m
                where t.{id_column} = m.source
                returning t.dataset, t.record_key, m.source, m.target
            )
            select dataset, record_key, source, target from moved
            order by target, dataset, record_key""",
        {"run": run_id, "method": method},
    ).fetchall()
    # Sorted by PostgreSQL (its collation), as the event log has always been ordered.
    retired = [
        source
        for (source,) in conn.execute("select source from mdm_move order by source").fetchall()
    ]
    by_source = {move.source: move for move in moves}
    linked = [
        EntityEvent("linked", target, target, by_source[source].evidence, dataset, record_key)
        for dataset, record_key, source, target in moved
    ]
    write_events(conn, schema, kind, run_id, linked)
    write_events(
        conn,
        schema,
        kind,
        run_id,
        [
            EntityEvent(
                "retired",
                source,
                by_source[source].target,
                by_source[source].evidence,
                *by_source[source].record.split("|", 1),
            )
            for source in retired
        ],
    )
    return len(linked)
