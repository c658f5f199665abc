"""The gate on every delivery loaded into ``raw``: one suite per dataset, built from the registry.

Critical expectations reject the delivery (nothing is attached to ``raw``);
warning expectations are stored with the result and feed the quality
scorecard. The thresholds are named here so a steward can find and argue
about them in one place.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from mdm.registry import Dataset, allowed_codes, code_set_regex

# A required column empty in more than half of the rows is a broken extract, not data.
REQUIRED_MOSTLY_CRITICAL = 0.5
# Below this share filled, a required column is flagged for the scorecard.
REQUIRED_MOSTLY_WARNING = 0.98
# Optional columns are measured for completeness (weighed less than required ones) but
# never flagged: a blank optional value is allowed.
OPTIONAL_MOSTLY_WARNING = 0.0
# Coded columns: share of values that must be in the code list before it is flagged.
CODES_MOSTLY_WARNING = 0.95
# A full delivery smaller than this share of the last loaded full is an incomplete extract.
FULL_MIN_SHARE_OF_PREVIOUS = 0.5

MIN_ROWS = "min_rows"  # suite parameter: filled in per delivery from the ledger


def suite_name(spec: Dataset, mode: str, kind: str) -> str:
    return f"raw.{spec.code}.{mode}.{kind}"


def _measured(spec: Dataset, mode: str, required: bool) -> list[str]:
    """Required (or optional) columns other than those every loaded row has (checked row by
    row: the record key, GXSJ, CZBS)."""
    identity = {c.lower() for c in spec.record_key} | {"gxsj", "czbs"}
    return [
        c.name.lower()
        for c in spec.columns
        if c.required == required
        and c.name.lower() not in identity
        and (mode == "delta" or not c.delta_only)
    ]


def _required(spec: Dataset, mode: str) -> list[str]:
    return _measured(spec, mode, required=True)


def _required_filled(
    name: str, mode: str, mostly: float, severity: FailureSeverity
) -> gxe.ExpectColumnValuesToNotBeNull:
    """A required column filled in ``mostly`` of the rows that are not deletes: the standard
    guarantees only the record key of a delete (``CZBS = D``; credit repair deletes
    penalties so). A full has no deletes."""
    delta = mode != "full"
    return gxe.ExpectColumnValuesToNotBeNull(
        column=name,
        mostly=mostly,
        severity=severity,
        row_condition='col("_operation")!="D"' if delta else None,
        condition_parser="great_expectations" if delta else None,
    )


def build_gate_suite(spec: Dataset, mode: str) -> gx.ExpectationSuite:
    """Critical: decides whether the delivery is attached to ``raw`` (cheap: few scans)."""
    suite = gx.ExpectationSuite(name=suite_name(spec, mode, "gate"))
    if mode == "full":
        suite.add_expectation(
            gxe.ExpectTableRowCountToBeBetween(
                min_value={"$PARAMETER": MIN_ROWS},
                severity=FailureSeverity.CRITICAL,
                notes="A full delivery far smaller than the last one is an incomplete extract.",
            )
        )
    for name in _required(spec, mode):
        suite.add_expectation(
            _required_filled(name, mode, REQUIRED_MOSTLY_CRITICAL, FailureSeverity.CRITICAL)
        )
    return suite


def build_profile_suite(spec: Dataset, mode: str) -> gx.ExpectationSuite:
    """Warnings for the quality scorecard, run on the delivery once it is in ``raw``."""
    suite = gx.ExpectationSuite(name=suite_name(spec, mode, "profile"))
    for name in _required(spec, mode):
        suite.add_expectation(
            _required_filled(name, mode, REQUIRED_MOSTLY_WARNING, FailureSeverity.WARNING)
        )
    # completeness over every column the standard defines (issue 21)
    for name in _measured(spec, mode, required=False):
        suite.add_expectation(
            _required_filled(name, mode, OPTIONAL_MOSTLY_WARNING, FailureSeverity.WARNING)
        )
    for column in spec.columns:
        codes = allowed_codes(column)
        name = column.name.lower()
        if not codes or name == "czbs" or (mode == "full" and column.delta_only):
            continue
        if column.separator:  # several codes in one value: each of them in the list
            suite.add_expectation(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=name,
                    regex=code_set_regex(codes, column.separator),
                    mostly=CODES_MOSTLY_WARNING,
                    severity=FailureSeverity.WARNING,
                )
            )
        else:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name,
                    value_set=codes,
                    mostly=CODES_MOSTLY_WARNING,
                    severity=FailureSeverity.WARNING,
                )
            )
    if mode == "full":
        # In a full delivery each source record appears once.
        key = [c.lower() for c in spec.record_key]
        if len(key) == 1:
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeUnique(column=key[0], severity=FailureSeverity.WARNING)
            )
        else:
            suite.add_expectation(
                gxe.ExpectCompoundColumnsToBeUnique(
                    column_list=key, severity=FailureSeverity.WARNING
                )
            )
    return suite


SUITES = {"gate": build_gate_suite, "profile": build_profile_suite}
