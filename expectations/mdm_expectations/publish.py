"""The publish gate: the repositories built in ``mdm_build`` are checked before they replace
what analysts read in ``mdm`` (write-audit-publish). Every expectation here is critical: one
failure keeps the previous version published.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

BUILD_SCHEMA = "mdm_build"
# Share of golden ID numbers / credit codes that may be invalid or shared before publishing
# stops (they are reported in the scorecard; a jump means something broke). ID numbers may be
# shared by 0.1% of persons, not none: the household register itself has duplicate-issued
# numbers (重号), each a steward's case, and one must not hold back the province's publish.
# Credit codes are issued centrally with a check character: a shared one always stops it.
MAX_INVALID_SHARE = 0.01
MAX_SHARED_ID_SHARE = 0.001
# A publish may shrink to half or grow to double the previous one; beyond is a broken build.
ROW_COUNT_BOUNDS = (0.5, 2.0)
PREVIOUS_ROWS = "previous_rows"  # suite parameter, from the published table


def _row_count(suite: gx.ExpectationSuite) -> None:
    suite.add_expectation(
        gxe.ExpectTableRowCountToBeBetween(
            min_value={"$PARAMETER": f"{PREVIOUS_ROWS}_min"},
            max_value={"$PARAMETER": f"{PREVIOUS_ROWS}_max"},
            notes="Row count within bounds of the previous publish.",
        )
    )


def _mostly_valid(description: str, column: str, check: str) -> gxe.UnexpectedRowsExpectation:
    """At most MAX_INVALID_SHARE of the filled ``column`` fails ``std.<check>``."""
    return gxe.UnexpectedRowsExpectation(
        description=description,
        unexpected_rows_query=(
            f"select share from (select count(*) filter (where not std.{check}({column}))"
            "::float / nullif(count(*), 0) as share "
            f"from {{batch}} where {column} is not null) s "
            f"where share > {MAX_INVALID_SHARE}"
        ),
    )


def natural_person() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="publish.natural_person")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="person_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    suite.add_expectation(
        _mostly_valid("golden ID numbers are valid (GB 11643)", "id_number", "is_valid_id_number")
    )
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="no valid ID number belongs to two persons",
            unexpected_rows_query=(
                "select share from (select (count(*) - count(distinct id_number))::float "
                "/ nullif(count(*), 0) as share from {batch} "
                "where std.is_valid_id_number(id_number)) s "
                f"where share > {MAX_SHARED_ID_SHARE}"
            ),
        )
    )
    _row_count(suite)
    return suite


def legal_person() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="publish.legal_person")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="legal_person_id"))
    suite.add_expectation(
        _mostly_valid("golden credit codes are valid (GB 32100)", "uscc", "is_valid_uscc")
    )
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="no valid credit code belongs to two organisations",
            unexpected_rows_query=(
                "select uscc from {batch} where uscc is not null group by uscc having count(*) > 1"
            ),
        )
    )
    _row_count(suite)
    return suite


def _xref(name: str, entity: str, column: str) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=f"publish.{name}")
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description=f"every live record's {column} is a {entity} row",
            unexpected_rows_query=(
                # GX substitutes {batch} with an aliased subquery: no alias of our own right
                # after it. An anti-join, not NOT IN: NOT IN over a million ids that do not
                # fit work_mem is a nested loop (hours at 1M persons, measured).
                f"select x.dataset, x.record_key from (select dataset, record_key, {column} "
                f"from {{batch}} where is_active) as x "
                f"left join {BUILD_SCHEMA}.{entity} as e on e.{column} = x.{column} "
                f"where e.{column} is null"
            ),
        )
    )
    _row_count(suite)
    return suite


def relation() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="publish.relation")
    suite.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="both ends of every relation are published entities",
            unexpected_rows_query=(
                "select r.from_id, r.to_id from (select from_id, to_id from {batch}) as r "
                f"left join {BUILD_SCHEMA}.natural_person as p on p.person_id = r.from_id "
                f"left join (select person_id as id from {BUILD_SCHEMA}.natural_person "
                f"union all select legal_person_id from {BUILD_SCHEMA}.legal_person) as t "
                "on t.id = r.to_id "
                "where p.person_id is null or t.id is null"
            ),
        )
    )
    _row_count(suite)
    return suite


SUITES = {
    "natural_person": natural_person,
    "legal_person": legal_person,
    "natural_person_xref": lambda: _xref("natural_person_xref", "natural_person", "person_id"),
    "legal_person_xref": lambda: _xref("legal_person_xref", "legal_person", "legal_person_id"),
    "relation": relation,
}
