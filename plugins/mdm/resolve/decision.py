"""Which entities to move, from scored pairs: pure Python, no database.

Only an entity without a trusted key moves, and only into a trusted entity, so two
entities with different valid ID numbers (or credit codes) are never merged; a steward's
cannot-link between the two entities vetoes the move. An untrusted entity moves into the
trusted entity of its best pair at or above the threshold, over all its scored records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    """One entity moved into another: the record that decided it, and why."""

    source: str
    target: str
    record: str  # dataset|record_key
    probability: float | None
    evidence: dict[str, Any]


@dataclass(frozen=True)
class InPlay:
    """What the database says about the records of the scored pairs."""

    entity: Mapping[str, str]  # record (dataset|record_key) -> its entity
    trusted: set[str]  # entities holding a record with a trusted key
    vetoed: set[tuple[str, str]]  # entity pairs a steward's cannot-link keeps apart


def best_matches(
    pairs: Iterable[dict[str, Any]],
    scored: set[str],
    in_play: InPlay,
    threshold: float,
    alias_of: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Untrusted entity -> its best pair into a trusted entity (the pair, plus ``record``:
    its scored record, ``other``: the matched row, ``target``: the entity it moves into).

    ``pairs``: Splink's (``unique_id_l``, ``unique_id_r``, ``match_probability``, ...);
    ``scored``: the records that may move their entity; ``alias_of``: alias row -> the
    record it stands for (a register record under its former name). Best: the highest
    probability, ties broken by the larger record id, then the larger target.
    """
    alias_of = alias_of or {}
    best: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        if pair["match_probability"] < threshold:
            continue
        for record, other in (
            (pair["unique_id_l"], pair["unique_id_r"]),
            (pair["unique_id_r"], pair["unique_id_l"]),
        ):
            source = in_play.entity.get(record)
            target = in_play.entity.get(alias_of.get(other, other))
            if record not in scored or source is None or source in in_play.trusted:
                continue
            if target is None or target not in in_play.trusted:
                continue
            if (source, target) in in_play.vetoed:
                continue
            current = best.get(source)
            candidate = (pair["match_probability"], record, target)
            if current is None or candidate > (
                current["match_probability"],
                current["record"],
                current["target"],
            ):
                best[source] = {**pair, "record": record, "other": other, "target": target}
    return best


def splink_moves(
    best: Mapping[str, dict[str, Any]], weights: list[str], model_evidence: dict[str, Any]
) -> list[Move]:
    """The moves of :func:`best_matches`, with their evidence: the model (``model_evidence``:
    its version and file), both records, the probability and each comparison's weight."""
    return [
        Move(
            source,
            decision["target"],
            decision["record"],
            decision["match_probability"],
            {
                **model_evidence,
                "record": decision["record"],
                "matched_record": decision["other"],
                "match_probability": decision["match_probability"],
                "match_weight": decision["match_weight"],
                "weights": {w: decision[w] for w in weights},
            },
        )
        for source, decision in best.items()
    ]
