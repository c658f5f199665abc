"""Splink scoring of candidate pairs, on the configured backend (``backends``)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from mdm.resolve import person_model, splink_artefact
from mdm.resolve.backends import splink_api
from mdm.settings import Settings

logger = logging.getLogger(__name__)


def score_pairs(
    settings: Settings,
    left: Any,
    table: Any,
    model: ModuleType = person_model,
    path: Path | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Splink predictions of ``model`` between ``left`` and ``table`` on the configured backend.

    ``path``: the trained model file, by default the one in use (``splink_artefact``).
    Returns the candidate pairs at or above the model's ``PREDICT_THRESHOLD`` (ids,
    probability, weight and the match weight of each comparison) and the names of those
    weight columns.
    """
    from splink import Linker

    left = splink_artefact.with_derived_columns(model, left)
    table = splink_artefact.with_derived_columns(model, table)
    with splink_api(settings) as api:
        trained = splink_artefact.trained_settings(model, api.sql_dialect.sql_dialect_str, path)
        left_sdf = api.register(left, table_name="scored_records")
        right_sdf = api.register(table, table_name="candidate_records")
        linker = Linker(right_sdf, trained)
        predictions = linker.inference.predict_between(
            left_sdf,
            right_sdf,
            link_type="link_only",
            threshold_match_probability=model.PREDICT_THRESHOLD,
        ).as_pyarrow_table()
    weights = [c for c in predictions.column_names if c.startswith("mw_")] or [
        c for c in predictions.column_names if c.startswith("bf_")
    ]
    pairs = predictions.select(
        ["unique_id_l", "unique_id_r", "match_probability", "match_weight", *weights]
    ).to_pylist()
    pairs.sort(key=lambda pair: (pair["unique_id_l"], pair["unique_id_r"]))
    return pairs, weights


def without_identifier(table: Any, column: str, records: set[str]) -> Any:
    """``table`` with ``column`` null in the rows of ``records`` (unique ids)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not records:
        return table
    hit = pc.is_in(table["unique_id"], value_set=pa.array(sorted(records), pa.string()))
    cleared = pc.if_else(hit, pa.scalar(None, pa.string()), table[column])
    return table.set_column(table.schema.get_field_index(column), column, cleared)
