"""The publish gate: the repositories built in ``mdm_build`` are checked before they replace
what analysts read in ``mdm`` (write-audit-publish). Every expectation here is critical: one
failure keeps the previous version published.

What a publish leaves unchanged was audited when it was published: row by row the gate reads
the rows that change (``<table>__changes``) and the entities that go (``<table>__removed``);
on the whole build only what one pass or a count tells (the shares of invalid and shared
codes, from the build's counts the audit stages; the row counts). Keys are unique through
the primary keys of the dbt contracts, and the gate checks each changed row's key against
the build, so a model edit that loses a primary key still cannot publish a duplicate.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from mdm.publish import BUILD_SCHEMA, MEASURES, REMOVED

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


def _share_over(
    description: str, table: str, share: str, bound: float
) -> gxe.UnexpectedRowsExpectation:
    """A share of the build's codes (``share``: SQL over its counts, mdm.publish.MEASURED,
    staged in ``<table>__measures`` by the audit: one pass over the build, or on a scoped
    build the published counts and the touched entities' rows) above ``bound``."""
    return gxe.UnexpectedRowsExpectation(
        description=description,
        unexpected_rows_query=(
            f"select share from (select ({share})::float as share "
            f"from {BUILD_SCHEMA}.{MEASURES.format(table)}) as m "
            # the build has rows (the counts are of {batch})
            f"where share > {bound} and exists (select 1 from {{batch}})"
        ),
    )


def _mostly_valid(description: str, table: str) -> gxe.UnexpectedRowsExpectation:
    """At most MAX_INVALID_SHARE of the filled codes fail their check."""
    return _share_over(
        description, table, "(filled - valid)::float / nullif(filled, 0)", MAX_INVALID_SHARE
    )


def _key_given_once(table: str, key: str) -> gxe.UnexpectedRowsExpectation:
    """A changed row's key is nowhere else in the build. The unchanged rows are published
    rows, unique there (the published table has the key as its primary key): so the whole
    build is unique, checked on the changed rows alone (an index lookup each)."""
    return gxe.UnexpectedRowsExpectation(
        description=f"no {key} is given twice",
        unexpected_rows_query=(
            f"select c.{key} from (select {key} from {{batch}}) as c "
            f"join {BUILD_SCHEMA}.{table} as b on b.{key} = c.{key} "
            f"group by c.{key} having count(*) > 1"
        ),
    )


def natural_person() -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    whole = gx.ExpectationSuite(name="publish.natural_person")
    whole.add_expectation(_mostly_valid("golden ID numbers are valid (GB 11643)", "natural_person"))
    whole.add_expectation(
        _share_over(
            "no valid ID number belongs to two persons",
            "natural_person",
            "shared::float / nullif(valid, 0)",
            MAX_SHARED_ID_SHARE,
        )
    )
    _row_count(whole)
    changes = gx.ExpectationSuite(name="publish.natural_person.changes")
    changes.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="person_id"))
    changes.add_expectation(_key_given_once("natural_person", "person_id"))
    return whole, changes


def legal_person() -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    whole = gx.ExpectationSuite(name="publish.legal_person")
    whole.add_expectation(_mostly_valid("golden credit codes are valid (GB 32100)", "legal_person"))
    whole.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description="no valid credit code belongs to two organisations",
            unexpected_rows_query=(
                "select uscc from {batch} where uscc is not null group by uscc having count(*) > 1"
            ),
        )
    )
    _row_count(whole)
    changes = gx.ExpectationSuite(name="publish.legal_person.changes")
    changes.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="legal_person_id"))
    changes.add_expectation(_key_given_once("legal_person", "legal_person_id"))
    return whole, changes


def _xref(name: str, entity: str, column: str) -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """A live record points at an entity row: checked for the records whose xref row changed,
    and for the entities this publish drops (an unchanged xref row may point at one)."""
    description = f"every live record's {column} is a {entity} row"
    whole = gx.ExpectationSuite(name=f"publish.{name}")
    whole.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description=description,
            unexpected_rows_query=(
                # GX substitutes {batch} with an aliased subquery: no alias of our own right
                # after it.
                f"select x.dataset, x.record_key from (select dataset, record_key, {column} "
                f"from {{batch}} where is_active) as x "
                f"join {BUILD_SCHEMA}.{REMOVED.format(entity)} as gone "
                f"on gone.{column} = x.{column}"
            ),
        )
    )
    _row_count(whole)
    changes = gx.ExpectationSuite(name=f"publish.{name}.changes")
    changes.add_expectation(
        gxe.UnexpectedRowsExpectation(
            description=description,
            unexpected_rows_query=(
                # An anti-join, not NOT IN: NOT IN over ids that do not fit work_mem is a
                # nested loop (hours at 1M persons, measured).
                f"select x.dataset, x.record_key from (select dataset, record_key, {column} "
                f"from {{batch}} where is_active) as x "
                f"left join {BUILD_SCHEMA}.{entity} as e on e.{column} = x.{column} "
                f"where e.{column} is null"
            ),
        )
    )
    return whole, changes


def _ends_published(relations: str) -> str:
    """Relations (a query) with an end that is not a published entity."""
    return (
        f"select r.from_id, r.to_id from ({relations}) as r "
        f"left join {BUILD_SCHEMA}.natural_person as p on p.person_id = r.from_id "
        f"left join (select person_id as id from {BUILD_SCHEMA}.natural_person "
        f"union all select legal_person_id from {BUILD_SCHEMA}.legal_person) as t "
        "on t.id = r.to_id "
        "where p.person_id is null or t.id is null"
    )


# Every entity id the publish drops (persons and legal persons), as SQL.
DROPPED_IDS = (
    f"select person_id from {BUILD_SCHEMA}.{REMOVED.format('natural_person')} "
    f"union all select legal_person_id from {BUILD_SCHEMA}.{REMOVED.format('legal_person')}"
)


def _pointers(
    table: str, description: str, to_dropped: str, not_published: str
) -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """The suites of a table whose rows point at entities: on the whole build, no row points
    at a dropped entity (``to_dropped``) and the row count; on the changed rows, every row
    points at published entities (``not_published``). Both queries over ``{batch}``."""
    whole = gx.ExpectationSuite(name=f"publish.{table}")
    whole.add_expectation(
        gxe.UnexpectedRowsExpectation(description=description, unexpected_rows_query=to_dropped)
    )
    _row_count(whole)
    changes = gx.ExpectationSuite(name=f"publish.{table}.changes")
    changes.add_expectation(
        gxe.UnexpectedRowsExpectation(description=description, unexpected_rows_query=not_published)
    )
    return whole, changes


def relation() -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """Both ends exist: for the changed relations, and for the relations of dropped entities."""
    return _pointers(
        "relation",
        "both ends of every relation are published entities",
        "select r.from_id, r.to_id from (select from_id, to_id from {batch}) as r "
        f"where r.from_id in (select person_id from {BUILD_SCHEMA}."
        f"{REMOVED.format('natural_person')}) or r.to_id in ({DROPPED_IDS})",
        _ends_published("select from_id, to_id from {batch}"),
    )


def _linked_published(links: str) -> str:
    """Record links (a query) whose entity is not a published entity of its kind."""
    return (
        f"select k.dataset, k.record_key from ({links}) as k "
        f"left join {BUILD_SCHEMA}.natural_person as p "
        "on k.entity_kind = 'person' and p.person_id = k.entity_id "
        f"left join {BUILD_SCHEMA}.legal_person as l "
        "on k.entity_kind = 'legal_person' and l.legal_person_id = k.entity_id "
        "where p.person_id is null and l.legal_person_id is null"
    )


def record_link() -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """Every link names a published entity of its kind: the changed links, and no link to a
    dropped entity (ADR 0017). A code link is certain; a link by name has its rule's worth."""
    whole, changes = _pointers(
        "record_link",
        "every record link names a published person or legal person",
        "select k.dataset, k.record_key "
        "from (select dataset, record_key, entity_id from {batch}) as k "
        f"where k.entity_id in ({DROPPED_IDS})",
        _linked_published("select dataset, record_key, entity_kind, entity_id from {batch}"),
    )
    changes.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(column="link_probability", min_value=0.5, max_value=1)
    )
    return whole, changes


def certificate() -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """Every certificate's holder is a published person or legal person: the changed
    certificates, and none held by a dropped entity (ADR 0018). A certificate without a
    published holder (an orphan no record links) has none."""
    whole, changes = _pointers(
        "certificate",
        "every certificate's holder is a published person or legal person",
        "select c.certificate_id from (select certificate_id, holder_person_id, "
        "holder_legal_person_id from {batch}) as c "
        f"where c.holder_person_id in ({DROPPED_IDS}) "
        f"or c.holder_legal_person_id in ({DROPPED_IDS})",
        _linked_published(
            "select 'dzzz_zzxx' as dataset, certificate_id as record_key, holder_kind "
            "as entity_kind, coalesce(holder_person_id, holder_legal_person_id) as entity_id "
            "from {batch} where holder_kind is not null"
        ),
    )
    changes.add_expectation(_key_given_once("certificate", "certificate_id"))
    return whole, changes


# Per published table: the suite on the whole build table (shares and counts: one pass, no
# join) and the suite on the rows this publish writes (mdm_build.<table>__changes).
SUITES = {
    "natural_person": natural_person,
    "legal_person": legal_person,
    "natural_person_xref": lambda: _xref("natural_person_xref", "natural_person", "person_id"),
    "legal_person_xref": lambda: _xref("legal_person_xref", "legal_person", "legal_person_id"),
    "relation": relation,
    "record_link": record_link,
    "certificate": certificate,
}
