"""The Splink model for organisations: settings as code, a versioned trained artefact.

Most organisation records resolve on codes (organization code, credit code,
registration number) and on the same name with the same representative's ID
number (``deterministic``). What is left: an old registration that has only a
registration number while its tax record has a legacy taxpayer number, an
individual business taxed under its operator's ID number, a credit code with a
wrong check character, a representative's ID number missing on one side. This
model compares those on name, address, representative and the delivered code.

``mdm resolve train`` estimates m from the organization-code labels and u by
random sampling, and writes a new ``models/<MODEL_VERSION>-<time>-<hash>.json``; runs
load the newest file of ``MODEL_VERSION`` (``splink_artefact``). Thresholds are the named
constants below.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

MODEL_VERSION = "organisation-v1"
# A record without a trusted code joins an organisation only above this match probability.
LINK_THRESHOLD = 0.995
# Pairs scored below this are not even returned by prediction.
PREDICT_THRESHOLD = 0.5

# The columns Splink compares, as selected from int_organisation_observations.
COLUMNS = (
    "unique_id",  # dataset|record_key
    "id_label",  # the organization code (training labels only)
    "credit_code",  # the 18-character code as delivered, valid or not
    "credit_code_body",  # its first 17 characters: the code without the check character
    "name_key",
    "org_name_key",  # the name without company form or brackets (std.org_name_key)
    "address",
    "legal_rep_name_key",
    "legal_rep_id_number",
)

# Candidate pairs share all the columns of at least one of these keys. Also used to fetch
# only the records that can pair with the ones being scored (``candidates``).
BLOCKING_KEYS = (
    ("org_name_key",),
    ("credit_code_body",),
    ("legal_rep_id_number",),
    ("address",),
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
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    cll.NullLevel("org_name_key"),
                    cll.ExactMatchLevel("name_key"),
                    # the same name but for the company form or brackets (有限公司 / 有限责任公司)
                    cll.ExactMatchLevel("org_name_key"),
                    cll.ElseLevel(),
                ],
            ).configure(m_probabilities=[0.95, 0.005, 0.01]),
            # exact, one character apart (a wrong check character), else: two different
            # valid credit codes weigh heavily against. Labels hold no wrong check
            # characters (those records have no organization code): the m values are set here.
            cl.LevenshteinAtThresholds("credit_code", [1]).configure(
                m_probabilities=[0.95, 0.003, 0.01]
            ),
            # Labels agree on address and representative far more often than departments do
            # (a registered address against a business address, a representative changed in
            # one register first), and a level the labels never show gets no m at all: the
            # m values of the disagreeing levels are set here, as priors.
            cl.ExactMatch("address").configure(m_probabilities=[0.8, 0.2]),
            cl.ExactMatch("legal_rep_name_key").configure(m_probabilities=[0.95, 0.05]),
            # One character apart: a typo. Random pairs almost never are, so u is set too.
            cl.LevenshteinAtThresholds("legal_rep_id_number", [1]).configure(
                m_probabilities=[0.9, 0.05, 0.05], u_probabilities=[0.0004, 1e-6, 0.9996]
            ),
        ],
        # Blocking rules and the columns they use change together (see ADR 0009).
        blocking_rules_to_generate_predictions=[block_on(*key) for key in BLOCKING_KEYS],
        retain_intermediate_calculation_columns=True,
    )
