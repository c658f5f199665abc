"""Resolution quality against the generator's truth: pairwise precision, recall, F1.

A pair is two source records of the same entity. Predicted pairs come from the
xref tables, true pairs from ``truth/records.csv``; only records present in
both count. Over-merged: predicted entities holding records of several true
entities; split: true entities spread over several predicted ones. Twins (born the
same day to the same parent, from ``truth/relations.csv``) merged into one person
are counted apart: they are the pairs most alike that must stay two people.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo

logger = logging.getLogger(__name__)

XREFS = {
    "person": ("person_record", "person_id"),
    "organisation": ("legal_person_record", "legal_person_id"),
}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(predicted: dict[Any, str], truth: dict[Any, str]) -> dict[str, Any]:
    """Metrics for record -> predicted entity and record -> true entity mappings."""
    common = predicted.keys() & truth.keys()
    both = Counter((predicted[r], truth[r]) for r in common)
    by_predicted = Counter(predicted[r] for r in common)
    by_true = Counter(truth[r] for r in common)
    true_positive = sum(_pairs(n) for n in both.values())
    predicted_pairs = sum(_pairs(n) for n in by_predicted.values())
    true_pairs = sum(_pairs(n) for n in by_true.values())
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    entities_per_predicted = Counter(p for p, _ in both)
    entities_per_true = Counter(t for _, t in both)
    return {
        "records": len(common),
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(f1, 6),
        "predicted_entities": len(by_predicted),
        "true_entities": len(by_true),
        "over_merged_entities": sum(1 for n in entities_per_predicted.values() if n > 1),
        "split_entities": sum(1 for n in entities_per_true.values() if n > 1),
    }


def predicted(
    conn: psycopg.Connection, schema: str = "resolve"
) -> dict[str, dict[tuple[str, str], str]]:
    """Record -> entity id, per kind, as the resolution output in ``schema`` holds it now."""
    return {
        kind: {
            (d, k): e
            for d, k, e in conn.execute(
                f"select dataset, record_key, {column} from {schema}.{table}"  # noqa: S608
            )
        }
        for kind, (table, column) in XREFS.items()
    }


def split_truth(records: dict[Any, tuple[str, str]]) -> dict[str, dict[Any, str]]:
    """The generator's truth (record -> (entity type, id)) per kind of entity."""
    truth: dict[str, dict[Any, str]] = {"person": {}, "organisation": {}}
    for key, (entity_type, entity_id) in records.items():
        truth["person" if entity_type == "person" else "organisation"][key] = entity_id
    return truth


def read_truth(truth_dir: Path) -> dict[str, dict[tuple[str, str], str]]:
    truth: dict[str, dict[tuple[str, str], str]] = {"person": {}, "organisation": {}}
    with open(truth_dir / "records.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = "person" if row["entity_type"] == "person" else "organisation"
            truth[kind][(row["dataset"], row["record_key"])] = row["entity_id"]
    return truth


def id_churn(conn: psycopg.Connection) -> dict[str, Any]:
    """What the latest resolution run changed for records resolved before it.

    Records moved between entities (linked, split) and ids retired, from the entity-event
    log; new records getting new ids are not churn.
    """
    row = conn.execute(
        "select run_id from resolve.entity_event where run_id is not null "
        "order by event_id desc limit 1"
    ).fetchone()
    if row is None:
        return {"run_id": None, "records_moved": 0, "ids_retired": 0, "records_split": 0}
    counts: dict[str, int] = dict(
        conn.execute(
            "select event, count(*) from resolve.entity_event where run_id = %s group by event",
            (row[0],),
        ).fetchall()
    )
    return {
        "run_id": row[0],
        "records_moved": counts.get("linked", 0) + counts.get("split", 0),
        "ids_retired": counts.get("retired", 0),
        "records_split": counts.get("split", 0),
    }


def read_twin_pairs(truth_dir: Path) -> set[tuple[str, str]]:
    """True persons born on the same day to the same parent (``truth/relations.csv``)."""
    children: dict[tuple[str, str], set[str]] = {}
    with open(truth_dir / "relations.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["relation_type"] == "parent":
                children.setdefault((row["from_id"], row["valid_from"]), set()).add(row["to_id"])
    return {(a, b) for siblings in children.values() for a in siblings for b in siblings if a < b}


def twins_merged(
    predicted_person: dict[Any, str], person_truth: dict[Any, str], twins: set[tuple[str, str]]
) -> int:
    """Twin pairs with a record of each in one predicted person: two people made one."""
    entities: dict[str, set[str]] = {}
    for record, true_id in person_truth.items():
        if record in predicted_person:
            entities.setdefault(true_id, set()).add(predicted_person[record])
    return sum(1 for a, b in twins if entities.get(a, set()) & entities.get(b, set()))


def evaluate(warehouse: ConnParams, truth_dir: Path) -> dict[str, dict[str, Any]]:
    truth = read_truth(truth_dir)
    with psycopg.connect(conninfo(warehouse)) as conn:
        current = predicted(conn)
        churn = id_churn(conn)
    results = {kind: pairwise(current[kind], truth[kind]) for kind in XREFS}
    twins = read_twin_pairs(truth_dir)
    results["person"]["twin_pairs"] = len(twins)
    results["person"]["twin_pairs_merged"] = twins_merged(current["person"], truth["person"], twins)
    return {**results, "id_churn": churn}
