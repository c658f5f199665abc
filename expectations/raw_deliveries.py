"""The gate on every delivery loaded into ``raw``: one suite per dataset, built from the registry.

Critical expectations reject the delivery (nothing is attached to ``raw``);
warning expectations are stored with the result and feed the quality
scorecard. The thresholds are named here so a steward can find and argue
about them in one place.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from mdm.registry import Dataset, allowed_codes

# A required column empty in more than half of the rows is a broken extract, not data.
REQUIRED_MOSTLY_CRITICAL = 0.5
# Below this share filled, a required column is flagged for the scorecard.
REQUIRED_MOSTLY_WARNING = 0.98
# Coded columns: share of values that must be in the code list before it is flagged.
CODES_MOSTLY_WARNING = 0.95
# A full delivery smaller than this share of the last loaded full is an incomplete extract.
FULL_MIN_SHARE_OF_PREVIOUS = 0.5

MIN_ROWS = "min_rows"  # suite parameter: filled in per delivery from the ledger


def suite_name(spec: Dataset, mode: str) -> str:
    return f"raw.{spec.code}.{mode}"


def build_suite(spec: Dataset, mode: str) -> gx.ExpectationSuite:
    """The suite for one delivery of ``spec`` in ``mode`` (full, delta or pull)."""
    suite = gx.ExpectationSuite(name=suite_name(spec, mode))
    if mode == "full":
        suite.add_expectation(
            gxe.ExpectTableRowCountToBeBetween(
                min_value={"$PARAMETER": MIN_ROWS},
                severity="critical",
                notes="A full delivery far smaller than the last one is an incomplete extract.",
            )
        )
    record_key = [c.lower() for c in spec.record_key]
    for column in spec.columns:
        name = column.name.lower()
        if column.delta_only and mode != "delta":
            continue
        if column.required and name not in record_key and name not in ("gxsj", "czbs"):
            suite.add_expectation(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=name, mostly=REQUIRED_MOSTLY_CRITICAL, severity="critical"
                )
            )
            suite.add_expectation(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=name, mostly=REQUIRED_MOSTLY_WARNING, severity="warning"
                )
            )
        codes = allowed_codes(column)
        if codes and name != "czbs":
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name, value_set=codes, mostly=CODES_MOSTLY_WARNING, severity="warning"
                )
            )
    if mode == "full":
        # In a full delivery each source record appears once.
        if len(record_key) == 1:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeUnique(column=record_key[0], severity="warning")
            )
        else:
            suite.add_expectation(
                gxe.ExpectCompoundColumnsToBeUnique(column_list=record_key, severity="warning")
            )
    return suite
