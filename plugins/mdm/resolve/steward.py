"""Steward decisions, applied by every resolution run after the automatic steps.

A decision names two source records (``dataset/record_key``), of persons or of
organisations:

- ``must_link``: their entities become one. The smaller (older) id survives;
  every record of the other entity moves into it (``linked`` events) and the
  other id is ``retired``. It overrides the automatic rules, two different
  valid ID numbers included: the steward has seen the evidence.
- ``cannot_link``: the records must be in different entities. Splink never
  links them (``probabilistic``); when they already share one (an ID number
  typed into two people's records), the second record moves out into a new
  entity (a ``split`` event) and the rest, the larger part, keeps the id.

Applying is idempotent: a decision already satisfied changes nothing. A later
decision on the same pair supersedes an earlier one. A must-link that would
put two records under a cannot-link into one entity is refused and counted as
a conflict. Decisions naming records not seen yet wait for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.entities import KINDS, SCHEMA, STEWARD_DECISIONS, EntityKind
from mdm.resolve.events import EntityEvent, write_events

logger = logging.getLogger(__name__)

# The decisions in force: per unordered pair of records, the latest one.
_DECISIONS = f"""
with decision as (
    select *, least(dataset_a || '/' || record_key_a, dataset_b || '/' || record_key_b) as one,
           greatest(dataset_a || '/' || record_key_a, dataset_b || '/' || record_key_b) as other
    from {STEWARD_DECISIONS}
    where withdrawn_at is null
)
select decision_id, decision, dataset_a, record_key_a, dataset_b, record_key_b, reason,
       decided_by
from (select distinct on (one, other) * from decision order by one, other, decision_id desc) d
order by decision_id
"""  # noqa: S608 - constants


def _locate(
    conn: psycopg.Connection, schema: str, dataset: str, record_key: str
) -> tuple[EntityKind, str] | None:
    for kind in KINDS:
        row = conn.execute(
            f"select {kind.id_column} from {kind.table(schema)} "  # noqa: S608 - constants
            "where dataset = %s and record_key = %s",
            (dataset, record_key),
        ).fetchone()
        if row:
            return kind, row[0]
    return None


def _members(conn: psycopg.Connection, schema: str, kind: EntityKind, entity_id: str) -> set[str]:
    return {
        f"{d}/{k}"
        for d, k in conn.execute(
            f"select dataset, record_key from {kind.table(schema)} "  # noqa: S608 - constants
            f"where {kind.id_column} = %s",
            (entity_id,),
        )
    }


def apply_steward_decisions(
    warehouse: ConnParams, run_id: str, schema: str = SCHEMA
) -> dict[str, int]:
    """Apply the decisions in force to the record tables of ``schema``; return counts."""
    counts = {"merged": 0, "split": 0, "conflicts": 0, "waiting_for_records": 0}
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        decisions = conn.execute(_DECISIONS).fetchall()
        apart = {
            frozenset((f"{a}/{b}", f"{c}/{d}"))
            for _, decision, a, b, c, d, _, _ in decisions
            if decision == "cannot_link"
        }
        # Must-links first, so that a split is never undone by a merge in the same run.
        ordered = sorted(decisions, key=lambda row: (row[1] != "must_link", row[0]))
        for decision_id, decision, dataset_a, key_a, dataset_b, key_b, reason, by in ordered:
            found_a = _locate(conn, schema, dataset_a, key_a)
            found_b = _locate(conn, schema, dataset_b, key_b)
            if found_a is None or found_b is None or found_a[0] != found_b[0]:
                counts["waiting_for_records"] += 1
                continue
            kind, entity_a = found_a
            entity_b = found_b[1]
            evidence = {
                "decision_id": decision_id,
                "decision": decision,
                "by": by,
                "reason": reason,
            }
            if decision == "must_link" and entity_a != entity_b:
                members = _members(conn, schema, kind, entity_a) | _members(
                    conn, schema, kind, entity_b
                )
                if any(pair <= members for pair in apart):
                    logger.warning(
                        "steward decision %s (must-link %s/%s and %s/%s) conflicts with a "
                        "cannot-link decision on records of those entities: not applied",
                        decision_id, dataset_a, key_a, dataset_b, key_b,
                    )  # fmt: skip
                    counts["conflicts"] += 1
                    continue
                _merge(conn, schema, kind, sorted((entity_a, entity_b)), evidence, run_id)
                counts["merged"] += 1
            elif decision == "cannot_link" and entity_a == entity_b:
                _split(conn, schema, kind, entity_a, (dataset_b, key_b), evidence, run_id)
                counts["split"] += 1
        conn.commit()
    if any(counts.values()):
        logger.info("steward decisions: %s", counts)
    return counts


def _merge(
    conn: psycopg.Connection,
    schema: str,
    kind: EntityKind,
    entities: list[str],
    evidence: dict[str, Any],
    run_id: str,
) -> None:
    survivor, absorbed = entities
    moved = conn.execute(
        f"""update {kind.table(schema)}
            set {kind.id_column} = %s, match_method = 'steward', resolved_at = now(), run_id = %s
            where {kind.id_column} = %s returning dataset, record_key""",  # noqa: S608
        (survivor, run_id, absorbed),
    ).fetchall()
    events = [
        EntityEvent("linked", survivor, survivor, evidence, dataset, record_key)
        for dataset, record_key in moved
    ]
    events.append(EntityEvent("retired", absorbed, survivor, evidence))
    write_events(conn, schema, kind, run_id, events)


def _split(
    conn: psycopg.Connection,
    schema: str,
    kind: EntityKind,
    entity_id: str,
    record: tuple[str, str],
    evidence: dict[str, Any],
    run_id: str,
) -> None:
    row = conn.execute(f"select {kind.new_id_sql(schema)}").fetchone()
    new_id = row[0] if row else None
    conn.execute(
        f"""update {kind.table(schema)}
            set {kind.id_column} = %s, match_method = 'steward', match_probability = null,
                resolved_at = now(), run_id = %s
            where dataset = %s and record_key = %s""",  # noqa: S608
        (new_id, run_id, *record),
    )
    write_events(
        conn, schema, kind, run_id, [EntityEvent("split", entity_id, new_id, evidence, *record)]
    )


# --- Recording decisions (``mdm steward``) ----------------------------------------------


@dataclass(frozen=True)
class DecisionOutcome:
    decision_id: int
    counts: dict[str, int]  # of :func:`apply_steward_decisions`
    refused: bool  # a must-link left unapplied: it would join a cannot-link pair


def decisions_in_force(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """(id, decision, record a, record b, decided by, decided at, reason) of live decisions."""
    return conn.execute(
        """select decision_id, decision, dataset_a || '/' || record_key_a,
                  dataset_b || '/' || record_key_b, decided_by, decided_at, reason
           from resolve.steward_decision where withdrawn_at is null
           order by decision_id"""
    ).fetchall()


def withdraw_decision(conn: psycopg.Connection, decision_id: int) -> bool:
    """Withdraw a live decision; False when there is none with that id."""
    withdrawn = conn.execute(
        "update resolve.steward_decision set withdrawn_at = now() "
        "where decision_id = %s and withdrawn_at is null",
        (decision_id,),
    ).rowcount
    conn.commit()
    return bool(withdrawn)


def record_decision(
    conn: psycopg.Connection,
    decision: str,
    record_a: tuple[str, str],
    record_b: tuple[str, str],
    reason: str,
) -> int:
    """Store a ``must_link`` or ``cannot_link`` on two (dataset, record key); return its id.

    The new decision supersedes any earlier one on the same pair.
    """
    conn.execute(
        """update resolve.steward_decision set withdrawn_at = now()
           where withdrawn_at is null
             and ((dataset_a, record_key_a, dataset_b, record_key_b) = (%s, %s, %s, %s)
               or (dataset_a, record_key_a, dataset_b, record_key_b) = (%s, %s, %s, %s))""",
        (*record_a, *record_b, *record_b, *record_a),
    )
    inserted = conn.execute(
        """insert into resolve.steward_decision
               (decision, dataset_a, record_key_a, dataset_b, record_key_b, reason)
           values (%s, %s, %s, %s, %s, %s) returning decision_id""",
        (decision, *record_a, *record_b, reason),
    ).fetchone()
    conn.commit()
    if inserted is None:
        raise RuntimeError("insert into resolve.steward_decision returned no decision_id")
    return int(inserted[0])


def decide(
    warehouse: ConnParams,
    decision: str,
    record_a: tuple[str, str],
    record_b: tuple[str, str],
    reason: str,
    run_id: str,
) -> DecisionOutcome:
    """Record a decision and apply the decisions in force now (:func:`apply_steward_decisions`)."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        decision_id = record_decision(conn, decision, record_a, record_b, reason)
    counts = apply_steward_decisions(warehouse, run_id)
    refused = False
    if decision == "must_link":
        # Not merged although both records are known: it would join a cannot-link pair.
        with psycopg.connect(conninfo(warehouse)) as conn:
            found = [_locate(conn, SCHEMA, *record) for record in (record_a, record_b)]
        refused = found[0] is not None and found[1] is not None and found[0][1] != found[1][1]
    return DecisionOutcome(decision_id, counts, refused)
