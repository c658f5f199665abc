"""Splink models as code plus a trained artefact: shared by the person and organisation models.

A model is a module with ``MODEL_VERSION`` and ``settings()`` (``person_model``,
``organisation_model``). Settings (comparisons, blocking rules) live in code;
training writes only what it estimates (m and u per comparison level, the prior) into
``models/<version>.json``. A run renders the settings in code for its backend's
SQL and takes the trained numbers from the file, so DuckDB and Spark run the same
model. A file that no longer matches the settings in code is refused.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).parent / "models"

# What training estimates, per comparison level; everything else comes from the code.
_TRAINED_LEVEL_KEYS = ("m_probability", "u_probability")


def derived_columns(model: ModuleType) -> dict[str, tuple[str, Any]]:
    """Columns the model computes in Python from another column (name -> (source, function)):
    ``DERIVED_COLUMNS`` of the model module, e.g. a name's pinyin."""
    return dict(getattr(model, "DERIVED_COLUMNS", {}))


def with_derived_columns(model: ModuleType, table: Any) -> Any:
    """``table`` (Arrow) with the model's derived columns, computed once per distinct value."""
    import pyarrow as pa

    for name, (source, function) in derived_columns(model).items():
        values = table[source].to_pylist()
        computed = {value: function(value) for value in set(values)}
        column = pa.array([computed[value] for value in values], pa.string())
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def model_path(model: ModuleType) -> Path:
    return MODELS_DIR / f"{model.MODEL_VERSION}.json"


def trained_settings(model: ModuleType, sql_dialect: str) -> dict[str, Any]:
    """The settings of ``model`` rendered for ``sql_dialect``, with the parameters of its
    trained file."""
    path = model_path(model)
    if not path.exists():
        raise FileNotFoundError(
            f"Splink model {path} is missing: train it with `mdm resolve train`"
        )
    trained = json.loads(path.read_text())
    rendered = model.settings().create_settings_dict(sql_dialect)
    rendered["sql_dialect"] = sql_dialect
    rendered["probability_two_random_records_match"] = trained[
        "probability_two_random_records_match"
    ]
    if len(rendered["comparisons"]) != len(trained["comparisons"]):
        raise ValueError(
            f"{path} has {len(trained['comparisons'])} comparisons, the settings in code "
            f"{len(rendered['comparisons'])}: run `mdm resolve train` and commit the new model file"
        )
    for comparison, trained_comparison in zip(
        rendered["comparisons"], trained["comparisons"], strict=True
    ):
        levels, trained_levels = (
            comparison["comparison_levels"],
            trained_comparison["comparison_levels"],
        )
        labels = [level.get("label_for_charts") for level in levels]
        trained_labels = [level.get("label_for_charts") for level in trained_levels]
        if (
            comparison["output_column_name"] != trained_comparison["output_column_name"]
            or labels != trained_labels
        ):
            raise ValueError(
                f"{path} does not match the settings in code (comparison "
                f"{comparison['output_column_name']}: {labels} vs {trained_labels}); "
                "run `mdm resolve train` and commit the new model file"
            )
        for level, trained_level in zip(levels, trained_levels, strict=True):
            for key in _TRAINED_LEVEL_KEYS:
                if key in trained_level:
                    level[key] = trained_level[key]
    return rendered


def train(model: ModuleType, table: Any, seed: int = 1) -> Path:
    """Estimate the prior and m from the ``id_label`` column (identifiers the deterministic
    step already trusts), u by random sampling; write the model's file."""
    from splink import DuckDBAPI, Linker, block_on

    table = with_derived_columns(model, table)
    linker = Linker(DuckDBAPI().register(table), model.settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_label")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=seed)
    linker.training.estimate_m_from_label_column("id_label")
    path = model_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(path), overwrite=True)
    logger.info("trained %s on %d records -> %s", model.MODEL_VERSION, table.num_rows, path)
    return path
