"""Two resolutions compared pair by pair: one resolution against another, or against truth.

A pair is two source records of the same entity. Used by ``mdm resolve run --full``
(``full.py``: the incremental result against a resolution from nothing) and by the
evaluation against the generator's truth (``mdm evaluate``, beside the runtime).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg

from mdm.resolve.entities import KINDS, SCHEMA


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
    # over every record of the truth: a record missing from the output misses its pairs
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    entities_per_predicted = Counter(p for p, _ in both)
    entities_per_true = Counter(t for _, t in both)
    return {
        "records": len(common),
        "truth_records": len(truth),
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(f1, 6),
        "predicted_entities": len(by_predicted),
        "true_entities": len(by_true),
        "over_merged_entities": sum(1 for n in entities_per_predicted.values() if n > 1),
        "split_entities": sum(1 for n in entities_per_true.values() if n > 1),
    }


def predicted(
    conn: psycopg.Connection, schema: str = SCHEMA
) -> dict[str, dict[tuple[str, str], str]]:
    """Record -> entity id, per kind, as the resolution output in ``schema`` holds it now."""
    return {
        kind.name: {
            (d, k): e
            for d, k, e in conn.execute(
                f"select dataset, record_key, {kind.id_column} from {kind.table(schema)}"  # noqa: S608
            )
        }
        for kind in KINDS
    }
