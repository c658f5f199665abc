"""Splink models as code plus a trained artefact: shared by the person and organisation models.

A model is a module with ``MODEL_VERSION`` and ``settings()`` (``person_model``,
``organisation_model``). Settings (comparisons, blocking rules) live in code;
training writes only what it estimates (m and u per comparison level, the prior) into
a new file ``models/<version>-<UTC time>-<content hash>.json`` and keeps the older ones.
The file in use is the newest of the model's version (:func:`model_path`); the entity
events of a run name it. A run renders the settings in code for its backend's SQL and
takes the trained numbers from the file, so DuckDB and Spark run the same model. A file
that no longer matches the settings in code, or its own hash, is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
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


def _content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


def _file_pattern(model: ModuleType) -> re.Pattern[str]:
    version = re.escape(model.MODEL_VERSION)
    return re.compile(rf"{version}-(\d{{8}}T\d{{6}}Z)-([0-9a-f]{{12}})\.json")


def file_name(model: ModuleType, content: bytes, trained_at: dt.datetime) -> str:
    """The name of a trained file: the model's version, when (UTC) and its content's hash."""
    stamp = trained_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{model.MODEL_VERSION}-{stamp}-{_content_hash(content)}.json"


def model_files(model: ModuleType) -> list[Path]:
    """The trained files of the model's version, oldest first (by the time in their name)."""
    pattern = _file_pattern(model)
    return sorted(
        (p for p in MODELS_DIR.glob(f"{model.MODEL_VERSION}-*.json") if pattern.fullmatch(p.name)),
        key=lambda p: p.name,
    )


def model_path(model: ModuleType) -> Path:
    """The trained file in use: the newest of the model's version."""
    files = model_files(model)
    if not files:
        raise FileNotFoundError(
            f"Splink model {model.MODEL_VERSION} has no trained file in {MODELS_DIR}: "
            "train it with `mdm resolve train`"
        )
    return files[-1]


def trained_settings(
    model: ModuleType, sql_dialect: str, path: Path | None = None
) -> dict[str, Any]:
    """The settings of ``model`` rendered for ``sql_dialect``, with the parameters of its
    trained file (``path``, by default the one in use)."""
    path = path or model_path(model)
    content = path.read_bytes()
    match = _file_pattern(model).fullmatch(path.name)
    if match is None or match.group(2) != _content_hash(content):
        raise ValueError(
            f"{path} is not a trained file of {model.MODEL_VERSION} named by its content "
            f"(<version>-<time>-<sha256 prefix>.json; the content hashes to "
            f"{_content_hash(content)}): train again with `mdm resolve train`"
        )
    trained = json.loads(content)
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


def train(model: ModuleType, table: Any, seed: int = 1, now: dt.datetime | None = None) -> Path:
    """Estimate the prior and m from the ``id_label`` column (identifiers the deterministic
    step already trusts), u by random sampling; write a new file of the model, named by the
    time (``now``, UTC) and its content, which becomes the one in use. Older files stay.
    Training to the content of the file in use writes nothing and returns that file. Either
    way the model's charts are written beside the file (``model_charts``)."""
    from splink import DuckDBAPI, Linker, block_on

    from mdm.resolve.model_charts import write_charts

    table = with_derived_columns(model, table)
    linker = Linker(DuckDBAPI().register(table), model.settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_label")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=seed)
    linker.training.estimate_m_from_label_column("id_label")
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    draft = MODELS_DIR / f".{model.MODEL_VERSION}.training.json"
    linker.misc.save_model_to_json(str(draft), overwrite=True)
    content = draft.read_bytes()
    in_use = model_files(model)
    if in_use and in_use[-1].name.endswith(f"-{_content_hash(content)}.json"):
        draft.unlink()
        logger.info("trained %s: the same as %s", model.MODEL_VERSION, in_use[-1].name)
        write_charts(linker, model, in_use[-1], table.num_rows)
        return in_use[-1]
    path = MODELS_DIR / file_name(model, content, now or dt.datetime.now(dt.UTC))
    if in_use and path.name <= in_use[-1].name:
        raise ValueError(
            f"{path.name} would not be newer than {in_use[-1].name}, the file in use: "
            "is the clock right?"
        )
    draft.rename(path)
    logger.info("trained %s on %d records -> %s", model.MODEL_VERSION, table.num_rows, path)
    write_charts(linker, model, path, table.num_rows)
    return path
