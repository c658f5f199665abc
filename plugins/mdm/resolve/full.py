"""Full re-resolution, compared with the incremental result (``mdm resolve run --full``).

The daily run resolves only new records against existing entities. This
re-resolves every record from nothing (deterministic keys, Splink, steward
decisions: the same code) into a scratch schema, and reports where the two
disagree: pairwise precision and recall of the incremental entities measured
against the full ones, entities the incremental run merged or split relative
to the full run, and examples. The published ids are not touched: persistent
ids must not churn because a check ran; a disagreement is for an engineer or
a steward to look at (``mdm explain``, ``mdm steward``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.compare import pairwise, predicted
from mdm.resolve.context import link_by_context
from mdm.resolve.deterministic import resolve_deterministic
from mdm.resolve.entities import EVENT_TABLE, KINDS, ORGANISATION, PERSON, SCHEMA
from mdm.resolve.probabilistic import link_singletons
from mdm.resolve.steward import apply_steward_decisions
from mdm.settings import Settings

logger = logging.getLogger(__name__)

SCRATCH_SCHEMA = "resolve_full"
EXAMPLES = 10


def _prepare_scratch(warehouse: ConnParams) -> None:
    with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
        conn.execute(f"drop schema if exists {SCRATCH_SCHEMA} cascade")
        conn.execute(f"create schema {SCRATCH_SCHEMA}")
        for table in (*(kind.record_table for kind in KINDS), EVENT_TABLE):
            conn.execute(
                f"create table {SCRATCH_SCHEMA}.{table} (like {SCHEMA}.{table} including all)"
            )
        for kind in KINDS:
            conn.execute(f"create sequence {SCRATCH_SCHEMA}.{kind.sequence}")


def _disagreements(
    incremental: dict[Any, str], full: dict[Any, str], limit: int = EXAMPLES
) -> list[dict[str, Any]]:
    """Incremental entities whose records the full run puts in other entities, and back."""
    by_incremental: dict[str, set[Any]] = defaultdict(set)
    by_full: dict[str, set[Any]] = defaultdict(set)
    for record in incremental.keys() & full.keys():
        by_incremental[incremental[record]].add(record)
        by_full[full[record]].add(record)
    examples = []
    for entity_id in sorted(by_incremental):
        records = by_incremental[entity_id]
        full_ids = sorted({full[r] for r in records})
        full_records = set().union(*(by_full[f] for f in full_ids))
        if len(full_ids) == 1 and full_records == records:
            continue
        examples.append(
            {
                "entity_id": entity_id,
                "records": sorted("/".join(r) for r in records),
                "full_run_groups": [sorted("/".join(r) for r in by_full[f]) for f in full_ids],
            }
        )
        if len(examples) >= limit:
            break
    return examples


def compare_full_with_incremental(
    warehouse: ConnParams, run_id: str, settings: Settings | None = None, keep: bool = False
) -> dict[str, Any]:
    """Re-resolve everything into the scratch schema; the difference per kind of entity."""
    _prepare_scratch(warehouse)
    try:
        counts = {
            "deterministic": resolve_deterministic(warehouse, run_id, SCRATCH_SCHEMA),
            "splink_person": link_singletons(warehouse, run_id, settings, SCRATCH_SCHEMA, PERSON),
            "splink_organisation": link_singletons(
                warehouse, run_id, settings, SCRATCH_SCHEMA, ORGANISATION
            ),
            "context": link_by_context(warehouse, run_id, SCRATCH_SCHEMA),
            "steward": apply_steward_decisions(warehouse, run_id, SCRATCH_SCHEMA),
        }
        with psycopg.connect(conninfo(warehouse)) as conn:
            incremental = predicted(conn)
            full = predicted(conn, SCRATCH_SCHEMA)
    finally:
        if not keep:
            with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
                conn.execute(f"drop schema if exists {SCRATCH_SCHEMA} cascade")
    report: dict[str, Any] = {"full_run": counts}
    for kind in incremental:
        metrics = pairwise(incremental[kind], full[kind])
        # Measured against the full run: "over-merged" = an incremental entity holding
        # records the full run keeps apart; "split" = a full-run entity spread over several.
        report[kind] = {
            **metrics,
            "records_only_incremental": len(incremental[kind].keys() - full[kind].keys()),
            "agree": metrics["over_merged_entities"] == 0 and metrics["split_entities"] == 0,
            "examples": _disagreements(incremental[kind], full[kind]),
        }
    logger.info(
        "full vs incremental: persons precision %s recall %s; organisations %s / %s",
        report["person"]["precision"],
        report["person"]["recall"],
        report["organisation"]["precision"],
        report["organisation"]["recall"],
    )
    return report
