"""Probabilistic linking with Splink for records the deterministic keys left alone.

Splink runs on DuckDB or on Spark (``backends``), with the same settings and model.
There is one model per kind of entity (``person_model``, ``organisation_model``), named
with what Splink may move by the kind's description (``entities``).

After the deterministic step every record has an entity, but records without a
trusted key are entities of their own: a newborn, a legal representative without an
ID number, an ID number with a wrong check character; an organisation known only by
its registration number, an individual business taxed under its operator's ID number.
This step scores those records against the records that share a blocking key with
them, and moves the entity of such a record into the entity of its best match when
the match probability is at least the model's ``LINK_THRESHOLD``.

The steps, one module each: ``candidates`` (the SQL that picks the records),
``scoring`` (Splink), ``decision`` (which entities move: pure Python) and
``persistence`` (the moves and their events). Every moved record is an entity event
with the evidence (match weights, the model file used); the id it left is retired, and
never reused.
"""

from __future__ import annotations

import logging

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve import splink_artefact
from mdm.resolve.candidates import load_candidates, with_former_name_aliases
from mdm.resolve.decision import best_matches, splink_moves
from mdm.resolve.entities import PERSON, SCHEMA, EntityKind
from mdm.resolve.persistence import entities_in_play, move_entities, records_resolved_by
from mdm.resolve.scoring import score_pairs, without_identifier
from mdm.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def link_singletons(
    warehouse: ConnParams,
    run_id: str,
    settings: Settings | None = None,
    schema: str = SCHEMA,
    kind: EntityKind = PERSON,
) -> dict[str, int]:
    """Move each entity without a trusted key into the trusted entity of its best match
    above the model's threshold.

    ``schema`` holds the record table and the event log (see ``resolve_deterministic``).
    """

    # Incremental by construction: only the records without a trusted key (about 1%) are
    # scored, against the records that share a blocking key with one of them; keyed records
    # never need Splink again.
    left, candidates = load_candidates(warehouse, schema, run_id, kind)
    if left.num_rows == 0:
        return {"records_scored": 0, "candidate_records": 0, "candidate_pairs": 0, "linked": 0}
    if kind.foreign_identifier_methods:
        foreign = records_resolved_by(warehouse, kind, schema, kind.foreign_identifier_methods)
        left = without_identifier(left, kind.identifier_column, foreign)
        candidates = without_identifier(candidates, kind.identifier_column, foreign)
    if kind.aliases:
        table, alias_of = with_former_name_aliases(candidates)
    else:
        table, alias_of = candidates, {}
    model = kind.model
    model_file = splink_artefact.model_path(model)
    pairs, weights = score_pairs(settings or load_settings(), left, table, model, model_file)
    with psycopg.connect(conninfo(warehouse)) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('mdm.resolve'))")
        in_play = entities_in_play(conn, kind, schema, set(candidates["unique_id"].to_pylist()))
        best = best_matches(
            pairs, set(left["unique_id"].to_pylist()), in_play, model.LINK_THRESHOLD, alias_of
        )
        evidence = {"model": model.MODEL_VERSION, "model_file": model_file.name}
        moves = splink_moves(best, weights, evidence)
        linked = move_entities(conn, kind, schema, run_id, moves, "splink")
        conn.commit()
    logger.info(
        "splink %s: %d records scored, %d candidate pairs, %d records linked (%s)",
        kind.name,
        left.num_rows,
        len(pairs),
        linked,
        model_file.name,
    )
    return {
        "records_scored": left.num_rows,
        "candidate_records": candidates.num_rows,
        "candidate_pairs": len(pairs),
        "linked": linked,
    }
