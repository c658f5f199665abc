"""The Splink model for persons: settings as code, a versioned trained artefact.

``mdm resolve train`` trains on a seeded generated world (labels: valid ID
numbers, which the deterministic step already trusts) and writes
``models/<MODEL_VERSION>.json``; daily runs load the file named by
``MODEL_VERSION``. Thresholds are the named constants below.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MODEL_VERSION = "person-v1"
MODELS_DIR = Path(__file__).parent / "models"
# A record without a usable key joins an entity only above this match probability.
LINK_THRESHOLD = 0.995
# Pairs scored below this are not even returned by prediction.
PREDICT_THRESHOLD = 0.5

# The columns Splink compares, as selected from int_person_observations.
COLUMNS = (
    "unique_id",  # dataset|record_key
    "id_label",  # the valid ID number (training labels only)
    "id_number",  # as delivered after normalisation (may be invalid)
    "name_key",
    "sex_code",
    "birth_date",
    "division",
    "mobile",
)


# Candidate pairs share all the columns of at least one of these keys. Also used to fetch
# only the records that can pair with the ones being scored (probabilistic.CANDIDATES_SQL).
BLOCKING_KEYS = (
    ("name_key", "birth_date"),
    ("id_number",),
    ("name_key", "sex_code", "division"),
    ("birth_date", "sex_code", "division"),
)


def settings() -> Any:
    """Splink settings: comparisons and the blocking rules that generate candidate pairs."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            # exact, one character apart (a typo, a traditional character), else
            cl.LevenshteinAtThresholds("name_key", [1]),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("sex_code"),
            # exact, one character apart (a wrong check character, a typo), else. Twins'
            # numbers differ in the sequence and the check: two or more characters, "else".
            # Labels cannot train the near level: the m values are set here.
            cl.LevenshteinAtThresholds("id_number", [1]).configure(
                m_probabilities=[0.92, 0.07, 0.01]
            ),
            cl.ExactMatch("division"),
            cl.ExactMatch("mobile"),
        ],
        # Blocking rules and the columns they use change together (see ADR 0009).
        blocking_rules_to_generate_predictions=[block_on(*key) for key in BLOCKING_KEYS],
        retain_intermediate_calculation_columns=True,
    )


def model_path(version: str = MODEL_VERSION) -> Path:
    return MODELS_DIR / f"{version}.json"


# What training estimates, per comparison level; everything else comes from settings().
_TRAINED_LEVEL_KEYS = ("m_probability", "u_probability")


def trained_settings(sql_dialect: str, version: str = MODEL_VERSION) -> dict[str, Any]:
    """The settings of this module in ``sql_dialect`` with the parameters of the trained model.

    The artefact is written by DuckDB, so its SQL is DuckDB's; the comparisons and blocking
    rules are rendered again for the backend that runs them (Spark's SQL differs), and only
    the trained numbers are taken from the file. A model whose levels no longer match the
    settings in code is refused: retrain it.
    """
    import json

    path = model_path(version)
    if not path.exists():
        raise FileNotFoundError(
            f"Splink model {path} is missing: train it with `mdm resolve train`"
        )
    trained = json.loads(path.read_text())
    rendered = settings().create_settings_dict(sql_dialect)
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


def train(table: Any, version: str = MODEL_VERSION, seed: int = 1) -> Path:
    """Estimate u by random sampling and m from the ID-number labels; write the artefact."""
    from splink import DuckDBAPI, Linker, block_on

    api = DuckDBAPI()
    linker = Linker(api.register(table), settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_label")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=seed)
    linker.training.estimate_m_from_label_column("id_label")
    path = model_path(version)
    path.parent.mkdir(parents=True, exist_ok=True)
    linker.misc.save_model_to_json(str(path), overwrite=True)
    logger.info("trained %s on %d records -> %s", version, table.num_rows, path)
    return path
