"""The Splink model for persons: settings as code, a versioned trained artefact.

``mdm resolve train`` trains on a seeded generated world (labels: valid ID
numbers, which the deterministic step already trusts) and writes a new
``models/<MODEL_VERSION>-<time>-<hash>.json``; daily runs load the newest file of
``MODEL_VERSION`` (``splink_artefact``). Thresholds are the named constants below.
"""

from __future__ import annotations

import logging
from typing import Any

from mdm.standardize.sound import pinyin_key

logger = logging.getLogger(__name__)

MODEL_VERSION = "person-v2"
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
    "surname",  # first character of the name key (blocking only)
    "name_pinyin",  # the name's sound (derived below, from pypinyin)
)

# Columns computed in Python once the rows are out of PostgreSQL: name -> (source, function).
DERIVED_COLUMNS = {"name_pinyin": ("name_key", pinyin_key)}


# Candidate pairs share all the columns of at least one of these keys. Also used to fetch
# only the records that can pair with the ones being scored (``candidates``).
BLOCKING_KEYS = (
    ("name_key", "birth_date"),
    ("id_number",),
    ("name_key", "sex_code", "division"),
    ("birth_date", "sex_code", "division"),
    # a name written by sound (同音字) keeps its surname and the birth date
    ("surname", "birth_date"),
)


def settings() -> Any:
    """Splink settings: comparisons and the blocking rules that generate candidate pairs."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            # Levels the ID-number labels never show (a name one character apart, a birth
            # date one digit or a month off, another division) get m in code, as priors:
            # Splink's own defaults, written down so the model file holds every number.
            # exact, one character apart (a typo, a traditional character), else
            # exact, the same sound (同音字: 晓/小), one character apart (a typo, a traditional
            # character), else
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("name_key"),
                    cll.ExactMatchLevel("name_key"),
                    cll.ExactMatchLevel("name_pinyin").configure(label_for_charts="same sound"),
                    cll.LevenshteinLevel("name_key", 1),
                    cll.ElseLevel(),
                ],
            ).configure(m_probabilities=[0.94, 0.02, 0.02, 0.02]),
            cl.DateOfBirthComparison("birth_date", input_is_string=False).configure(
                m_probabilities=[0.95, 0.01, 0.01, 0.01, 0.01, 0.01]
            ),
            cl.ExactMatch("sex_code").configure(m_probabilities=[0.98, 0.02]),
            # exact, one character apart (a wrong check character, a typo), else. Twins'
            # numbers differ in the sequence and the check: two or more characters, "else".
            # Labels cannot train the near level: the m values are set here.
            cl.LevenshteinAtThresholds("id_number", [1]).configure(
                m_probabilities=[0.92, 0.07, 0.01]
            ),
            # The registered division (register, birth certificate): a person's two records
            # name two divisions rarely. 1 in 200, not Splink's default 1 in 20, so that two
            # namesakes born the same day in two counties stay apart (hand-labelled pairs).
            cl.ExactMatch("division").configure(m_probabilities=[0.995, 0.005]),
            cl.ExactMatch("mobile"),
        ],
        # Blocking rules and the columns they use change together (see ADR 0009).
        blocking_rules_to_generate_predictions=[block_on(*key) for key in BLOCKING_KEYS],
        retain_intermediate_calculation_columns=True,
    )
