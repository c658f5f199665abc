"""Write-audit-publish: a build that fails the audit leaves analysts the previous version.

One world is built and published once for the module; each test breaks the build in
``mdm_build`` the way one expectation of ``mdm_expectations.publish`` guards against, runs
the audit and publish, and shows that the run fails naming that expectation while ``mdm``
and the analysts' views keep the previous version. The build is restored after each test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import build_world

from mdm import build, publish
from mdm.connections import params_from_url
from mdm_expectations import publish as gate_suites

pytestmark = pytest.mark.integration

ROW_COUNT = "expect_table_row_count_to_be_between"
SHARED_ID = "no valid ID number belongs to two persons"


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory) -> Iterator[None]:  # type: ignore[no-untyped-def]
    build_world(settings, warehouse_url, tmp_path_factory.mktemp("gate"), 500, 31)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop schema if exists gate_backup cascade")
        conn.execute("create schema gate_backup")
        for table in publish.TABLES:
            conn.execute(f"create table gate_backup.{table} (like mdm_build.{table} including all)")
            conn.execute(f"insert into gate_backup.{table} select * from mdm_build.{table}")
    yield
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop schema if exists gate_backup cascade")


@pytest.fixture
def good_build(world, warehouse_url) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The module's good build in mdm_build, restored (constraints included) after the test."""
    yield
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for table in publish.TABLES:
            conn.execute(f"drop table mdm_build.{table}")
            conn.execute(f"create table mdm_build.{table} (like gate_backup.{table} including all)")
            conn.execute(f"insert into mdm_build.{table} select * from gate_backup.{table}")


def published_state(warehouse_url: str) -> dict[str, object]:
    """Every published row and what analysts see, as fingerprints."""
    with psycopg.connect(warehouse_url) as conn:
        state: dict[str, object] = {
            table: conn.execute(
                f"select count(*), md5(string_agg(t::text, E'\\n' order by t::text)) "
                f"from mdm.{table} as t"
            ).fetchone()
            for table in publish.TABLES
        }
        for view in ("natural_person", "legal_person", "relation"):
            state[f"analyst.{view}"] = conn.execute(
                f"select count(*) from analyst.{view}"
            ).fetchone()
    return state


def failures(warehouse_url: str, run_id: str) -> set[tuple[str, str]]:
    """(table, expectation) of every failed expectation stored for the run."""
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select split_part(delivery_id, ':', 2), "
            "coalesce(f->>'description', f->>'expectation') "
            "from ops.validation_result, jsonb_array_elements(failures) as f "
            "where dataset = 'publish' and delivery_id like %s",
            (f"{run_id}:%",),
        ).fetchall()
    return {(table, name) for table, name in rows}


def assert_blocked(
    warehouse_url: str, run_id: str, expected: set[tuple[str, str]], exact: bool = True
) -> None:
    """The audit fails naming ``expected``; nothing of the build reaches mdm or analysts."""
    before = published_state(warehouse_url)
    with pytest.raises(publish.PublishBlockedError) as blocked:
        publish.audit_and_publish(params_from_url(warehouse_url), run_id)
    message = str(blocked.value)
    for table, name in expected:
        assert f"{table}: " in message and name in message, message
    failed = failures(warehouse_url, run_id)
    if exact:
        assert failed == expected
    else:
        assert expected <= failed
    assert published_state(warehouse_url) == before


def execute(warehouse_url: str, *statements: str) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def drop_primary_key(warehouse_url: str, table: str) -> None:
    """The contract's primary key removed (a model edit): the gate must still catch it."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        row = conn.execute(
            "select conname from pg_constraint where contype = 'p' and conrelid = %s::regclass",
            (f"mdm_build.{table}",),
        ).fetchone()
        assert row is not None
        conn.execute(f'alter table mdm_build.{table} drop constraint "{row[0]}"')


def scalar(warehouse_url: str, query: str) -> int:
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_the_good_build_passes_the_gate(good_build, warehouse_url):
    """Each failure below is the breakage's own: the untouched build passes every suite."""
    results = publish.audit(params_from_url(warehouse_url), "gate-good")
    assert set(results) == set(publish.TABLES)
    assert all(r.success for r in results.values()), {t: r.failures for t, r in results.items()}
    assert failures(warehouse_url, "gate-good") == set()


# --- natural_person ---------------------------------------------------------------------


def test_a_duplicated_person_id(good_build, warehouse_url):
    # The contract's primary key is gone (a model edit): the gate still stops the publish.
    drop_primary_key(warehouse_url, "natural_person")
    execute(
        warehouse_url,
        # The copy has no ID number, so only the id is duplicated.
        "insert into mdm_build.natural_person select (jsonb_populate_record("
        "null::mdm_build.natural_person, to_jsonb(p) || '{\"id_number\": null}'::jsonb)).* "
        "from (select * from mdm_build.natural_person order by person_id limit 1) as p",
    )
    assert_blocked(
        warehouse_url,
        "gate-dup-person-id",
        {("natural_person", "no person_id is given twice")},
    )


def test_a_person_without_id(good_build, warehouse_url):
    drop_primary_key(warehouse_url, "natural_person")
    execute(
        warehouse_url,
        "alter table mdm_build.natural_person alter column person_id drop not null",
        "update mdm_build.natural_person set person_id = null where person_id = "
        "(select max(person_id) from mdm_build.natural_person)",
    )
    # The person's xrefs (and relations) now point nowhere: those suites fail as well.
    assert_blocked(
        warehouse_url,
        "gate-null-person-id",
        {("natural_person", "expect_column_values_to_not_be_null")},
        exact=False,
    )


def touch_what_differs(warehouse_url: str) -> None:
    """The touched set of an incremental build (intermediate.int_touched_entities, without
    its ``all`` row) made of the entities whose rows differ between mdm_build and mdm: a
    scoped audit then reads those rows and the published counts (ops.publish_measure)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("delete from intermediate.int_touched_entities")
        for table, key, kind in (
            ("natural_person", "person_id", "person"),
            ("legal_person", "legal_person_id", "organisation"),
        ):
            conn.execute(
                f"insert into intermediate.int_touched_entities (kind, entity_id) "
                f"select distinct %s, {key} from ((select * from mdm_build.{table} except "
                f"select * from mdm.{table}) union all (select * from mdm.{table} except "
                f"select * from mdm_build.{table})) as d",
                (kind,),
            )


@pytest.fixture
def all_touched(world, warehouse_url) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The module's full build touched everything: restored after a test that scopes it."""
    yield
    execute(
        warehouse_url,
        "delete from intermediate.int_touched_entities",
        "insert into intermediate.int_touched_entities (kind, entity_id) values ('all', null)",
    )


def audit_failures(warehouse_url: str, run_id: str, scoped: bool) -> set[tuple[str, str]]:
    """The failed expectations of an audit of the current build, scoped to the entities
    whose rows differ from the published ones, or over the whole build."""
    if scoped:
        touch_what_differs(warehouse_url)
    publish.audit(params_from_url(warehouse_url), run_id, scoped=scoped)
    return failures(warehouse_url, run_id)


INVALID_ID = "golden ID numbers are valid (GB 11643)"


def _spoil_id_numbers(warehouse_url: str, persons: int) -> None:
    """``persons`` valid golden ID numbers get a wrong check character (still 18 characters,
    no longer GB 11643)."""
    execute(
        warehouse_url,
        "update mdm_build.natural_person set id_number = left(id_number, 17) || "
        "case when right(id_number, 1) = '0' then '1' else '0' end "
        "where person_id in (select person_id from mdm_build.natural_person "
        f"where std.is_valid_id_number(id_number) order by person_id limit {persons})",
    )


@pytest.mark.parametrize("scoped", [False, True])
def test_invalid_id_numbers_at_the_bound_pass_and_one_more_fails(
    good_build, all_touched, warehouse_url, scoped
):
    """Scoped (an incremental build: the published counts and the touched persons' rows) or
    over the whole build, the gate gives the same answer at the bound and one over it."""
    filled, invalid = (
        scalar(
            warehouse_url,
            f"select count(*) from mdm_build.natural_person where id_number is not null {extra}",
        )
        for extra in ("", "and not std.is_valid_id_number(id_number)")
    )
    allowed = math.floor(filled * gate_suites.MAX_INVALID_SHARE)
    assert allowed >= invalid
    _spoil_id_numbers(warehouse_url, allowed - invalid)  # exactly at the bound
    assert (
        "natural_person",
        INVALID_ID,
    ) not in audit_failures(warehouse_url, f"gate-invalid-at-bound-{scoped}", scoped)
    _spoil_id_numbers(warehouse_url, 1)
    assert ("natural_person", INVALID_ID) in audit_failures(
        warehouse_url, f"gate-invalid-over-bound-{scoped}", scoped
    )


def test_a_scoped_audit_reads_the_kept_counts(good_build, all_touched, warehouse_url):
    """A scoped audit counts the shares from the counts the publish kept and the touched
    persons' rows, not from every row: kept counts that say 2% of the ID numbers are
    invalid fail it, while the whole build (unchanged) passes."""
    filled = scalar(
        warehouse_url,
        "select value from ops.publish_measure "
        "where table_name = 'natural_person' and measure = 'filled'",
    )
    wrong = math.ceil(filled * 2 * gate_suites.MAX_INVALID_SHARE)
    execute(
        warehouse_url,
        "delete from intermediate.int_touched_entities",
        "insert into intermediate.int_touched_entities (kind, entity_id) "
        "select 'person', min(person_id) from mdm.natural_person",
        f"update ops.publish_measure set value = value - {wrong} "
        "where table_name = 'natural_person' and measure = 'valid'",
    )
    try:
        publish.audit(params_from_url(warehouse_url), "gate-kept-scoped", scoped=True)
        assert ("natural_person", INVALID_ID) in failures(warehouse_url, "gate-kept-scoped")
        publish.audit(params_from_url(warehouse_url), "gate-kept-whole")
        assert failures(warehouse_url, "gate-kept-whole") == set()
    finally:
        execute(
            warehouse_url,
            f"update ops.publish_measure set value = value + {wrong} "
            "where table_name = 'natural_person' and measure = 'valid'",
        )


def test_invalid_id_numbers_over_the_bound(good_build, warehouse_url):
    filled = scalar(
        warehouse_url,
        "select count(*) from mdm_build.natural_person where id_number is not null",
    )
    spoiled = math.floor(filled * gate_suites.MAX_INVALID_SHARE) + 1  # one over the bound
    execute(
        warehouse_url,
        # A wrong check character: still 18 characters, no longer GB 11643.
        "update mdm_build.natural_person set id_number = left(id_number, 17) || "
        "case when right(id_number, 1) = '0' then '1' else '0' end "
        "where person_id in (select person_id from mdm_build.natural_person "
        f"where std.is_valid_id_number(id_number) order by person_id limit {spoiled})",
    )
    assert_blocked(
        warehouse_url,
        "gate-invalid-id",
        {("natural_person", "golden ID numbers are valid (GB 11643)")},
    )


def _share_id_numbers(warehouse_url: str, pairs: int) -> None:
    """``pairs`` persons take the valid ID number of another person (disjoint pairs)."""
    execute(
        warehouse_url,
        "with valid as (select person_id, id_number, row_number() over (order by person_id) "
        "as n from mdm_build.natural_person where std.is_valid_id_number(id_number)) "
        "update mdm_build.natural_person as p set id_number = donor.id_number "
        "from valid as taker join valid as donor on donor.n = taker.n + 1 "
        f"where p.person_id = taker.person_id and taker.n % 2 = 1 and taker.n < {2 * pairs}",
    )


def _shared_id_result(warehouse_url: str, run_id: str, scoped: bool = False) -> bool:
    """Whether the shared-ID expectation passes on the current build (other suites aside)."""
    return ("natural_person", SHARED_ID) not in audit_failures(warehouse_url, run_id, scoped)


def _grow_valid_id_numbers(warehouse_url: str, persons: int) -> None:
    """Add ``persons`` synthetic persons with distinct valid ID numbers (born 1901), so that
    the 0.1% bound allows at least one shared number."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "insert into mdm_build.natural_person "
            "select (jsonb_populate_record(null::mdm_build.natural_person, to_jsonb(p) "
            "|| jsonb_build_object('person_id', 'P8' || lpad(s::text, 9, '0'), 'id_number', "
            "body || std.id_check_char(body)))).* "
            "from (select * from mdm_build.natural_person order by person_id limit 1) as p, "
            "generate_series(1, %s) as s, "
            "lateral (select '4501021901' || lpad((1 + s / 900)::text, 2, '0') "
            "|| lpad((1 + s %% 28)::text, 2, '0') || lpad((s %% 900 + 100)::text, 3, '0') "
            "as body) as b",
            (persons,),
        )
    duplicates = scalar(
        warehouse_url,
        "select count(*) - count(distinct id_number) from mdm_build.natural_person "
        "where std.is_valid_id_number(id_number)",
    )
    assert duplicates == 0


@pytest.mark.parametrize("scoped", [False, True])
def test_shared_id_numbers_at_the_bound_pass_and_one_more_fails(
    good_build, all_touched, warehouse_url, scoped
):
    """The gate tolerates 0.1% shared golden ID numbers (README: duplicate-issued numbers,
    重号, exist in the register and are a steward's work, not a reason to stop the
    province's publish); one more than that stops it. The same scoped (an incremental
    build: counted from the published counts and the touched persons' rows)."""
    assert gate_suites.MAX_SHARED_ID_SHARE == 0.001
    valid_query = (
        "select count(*) from mdm_build.natural_person where std.is_valid_id_number(id_number)"
    )
    # Exactly 2,000 valid numbers: 2 shared is exactly 0.1%, the bound itself.
    _grow_valid_id_numbers(warehouse_url, 2000 - scalar(warehouse_url, valid_query))
    assert scalar(warehouse_url, valid_query) == 2000
    _share_id_numbers(warehouse_url, 2)
    assert _shared_id_result(warehouse_url, f"gate-shared-at-bound-{scoped}", scoped)
    _share_id_numbers(warehouse_url, 3)
    assert not _shared_id_result(warehouse_url, f"gate-shared-over-bound-{scoped}", scoped)


def test_shared_id_numbers_over_the_bound(good_build, warehouse_url):
    valid = scalar(
        warehouse_url,
        "select count(*) from mdm_build.natural_person where std.is_valid_id_number(id_number)",
    )
    _share_id_numbers(warehouse_url, math.floor(valid * gate_suites.MAX_SHARED_ID_SHARE) + 1)
    assert_blocked(warehouse_url, "gate-shared-id", {("natural_person", SHARED_ID)})


# --- legal_person -----------------------------------------------------------------------


def test_a_duplicated_legal_person_id(good_build, warehouse_url):
    drop_primary_key(warehouse_url, "legal_person")
    execute(
        warehouse_url,
        # The copy has no credit code, so only the id is duplicated.
        "insert into mdm_build.legal_person select (jsonb_populate_record("
        "null::mdm_build.legal_person, to_jsonb(o) || '{\"uscc\": null}'::jsonb)).* "
        "from (select * from mdm_build.legal_person order by legal_person_id limit 1) as o",
    )
    assert_blocked(
        warehouse_url,
        "gate-dup-legal-person-id",
        {("legal_person", "no legal_person_id is given twice")},
    )


def test_invalid_credit_codes_over_the_bound(good_build, warehouse_url):
    filled = scalar(
        warehouse_url, "select count(*) from mdm_build.legal_person where uscc is not null"
    )
    spoiled = math.floor(filled * gate_suites.MAX_INVALID_SHARE) + 1
    execute(
        warehouse_url,
        "update mdm_build.legal_person set uscc = left(uscc, 17) || "
        "case when right(uscc, 1) = '0' then '1' else '0' end "
        "where legal_person_id in (select legal_person_id from mdm_build.legal_person "
        f"where std.is_valid_uscc(uscc) order by legal_person_id limit {spoiled})",
    )
    assert_blocked(
        warehouse_url,
        "gate-invalid-uscc",
        {("legal_person", "golden credit codes are valid (GB 32100)")},
    )


def test_a_duplicated_credit_code(good_build, warehouse_url):
    execute(
        warehouse_url,
        "update mdm_build.legal_person set uscc = (select uscc from mdm_build.legal_person "
        "where uscc is not null order by legal_person_id limit 1) "
        "where legal_person_id = (select legal_person_id from mdm_build.legal_person "
        "where uscc is not null order by legal_person_id limit 1 offset 1)",
    )
    assert_blocked(
        warehouse_url,
        "gate-dup-uscc",
        {("legal_person", "no valid credit code belongs to two organisations")},
    )


# --- xrefs and relations ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "missing"),
    [
        ("natural_person_xref", "person_id", "P9999999999"),
        ("legal_person_xref", "legal_person_id", "L9999999999"),
    ],
)
def test_an_orphan_xref(good_build, warehouse_url, table, column, missing):
    entity = table.removesuffix("_xref")
    execute(
        warehouse_url,
        f"update mdm_build.{table} set {column} = '{missing}' where (dataset, record_key) = "
        f"(select dataset, record_key from mdm_build.{table} where is_active "
        "order by dataset, record_key limit 1)",
    )
    assert_blocked(
        warehouse_url,
        f"gate-orphan-{table}",
        {(table, f"every live record's {column} is a {entity} row")},
    )


def test_a_dropped_person_whose_records_stay(good_build, warehouse_url):
    """The person goes from the build, its xref rows stay as published (unchanged rows): the
    audit reads the dropped ids, not only the changed rows."""
    execute(
        warehouse_url,
        "delete from mdm_build.natural_person where person_id = (select person_id "
        "from mdm_build.natural_person_xref where is_active order by person_id limit 1)",
    )
    assert_blocked(
        warehouse_url,
        "gate-dropped-person",
        {("natural_person_xref", "every live record's person_id is a natural_person row")},
        exact=False,
    )


def test_an_inactive_orphan_xref_is_no_failure(good_build, warehouse_url):
    """The xref check is about live records: a retired record may point at a retired id."""
    execute(
        warehouse_url,
        "update mdm_build.natural_person_xref set person_id = 'P9999999999', "
        "is_active = false where (dataset, record_key) = (select dataset, record_key "
        "from mdm_build.natural_person_xref order by dataset, record_key limit 1)",
    )
    results = publish.audit(params_from_url(warehouse_url), "gate-inactive-orphan")
    assert results["natural_person_xref"].success


NOWHERE = "X9999999999"  # an entity id that is not published


def point_one_row_nowhere(
    warehouse_url: str, table: str, column: str, where: str, order_by: str
) -> None:
    """The first row of ``table`` meeting ``where`` (by ``order_by``) points at no entity."""
    execute(
        warehouse_url,
        f"update mdm_build.{table} set {column} = '{NOWHERE}' where ctid = "
        f"(select ctid from mdm_build.{table} where {where} order by {order_by} limit 1)",
    )
    assert scalar(warehouse_url, f"select count(*) from mdm_build.{table} "
                  f"where {column} = '{NOWHERE}'") == 1  # fmt: skip


@pytest.mark.parametrize("end", ["from_id", "to_id"])
@pytest.mark.parametrize("relation_type", ["spouse", "employee"])
def test_a_relation_end_that_is_not_published(good_build, warehouse_url, end, relation_type):
    point_one_row_nowhere(
        warehouse_url, "relation", end, f"relation_type = '{relation_type}'", "from_id, to_id"
    )
    assert_blocked(
        warehouse_url,
        f"gate-relation-{relation_type}-{end}",
        {("relation", "both ends of every relation are published entities")},
    )


@pytest.mark.parametrize("entity_kind", ["person", "legal_person"])
def test_a_record_link_to_an_entity_that_is_not_published(good_build, warehouse_url, entity_kind):
    point_one_row_nowhere(
        warehouse_url,
        "record_link",
        "entity_id",
        f"entity_kind = '{entity_kind}'",
        "dataset, record_key",
    )
    assert_blocked(
        warehouse_url,
        f"gate-record-link-{entity_kind}",
        {("record_link", "every record link names a published person or legal person")},
    )


@pytest.mark.parametrize("column", ["holder_person_id", "holder_legal_person_id"])
def test_a_certificate_held_by_an_entity_that_is_not_published(good_build, warehouse_url, column):
    execute(
        warehouse_url,
        f"update mdm_build.certificate set {column} = 'X9999999999' where ctid = "
        f"(select ctid from mdm_build.certificate where {column} is not null "
        "order by certificate_id limit 1)",
    )
    assert_blocked(
        warehouse_url,
        f"gate-certificate-{column}",
        {("certificate", "every certificate's holder is a published person or legal person")},
    )


# --- row counts against the last publish ------------------------------------------------


@pytest.mark.parametrize("table", publish.TABLES)
def test_a_build_at_0_4x_the_previous_rows(good_build, warehouse_url, table):
    rows = scalar(warehouse_url, f"select count(*) from mdm_build.{table}")
    keep = math.floor(rows * 0.4)
    execute(
        warehouse_url,
        f"delete from mdm_build.{table} where ctid not in "
        f"(select ctid from mdm_build.{table} order by ctid limit {keep})",
    )
    # Removing persons or organisations also orphans their xrefs and relations: those
    # suites may fail too; this table's row count must be among the failures.
    assert_blocked(warehouse_url, f"gate-shrunk-{table}", {(table, ROW_COUNT)}, exact=False)


def test_a_build_at_2_5x_the_previous_rows(good_build, warehouse_url):
    execute(
        warehouse_url,
        *(
            "insert into mdm_build.natural_person_xref select (jsonb_populate_record("
            "null::mdm_build.natural_person_xref, to_jsonb(x) || jsonb_build_object("
            f"'record_key', x.record_key || '#copy{n}'))).* "
            "from gate_backup.natural_person_xref as x"
            for n in (1, 2)
        ),
        "delete from mdm_build.natural_person_xref where ctid in (select ctid from "
        "mdm_build.natural_person_xref where record_key like '%#copy2' "
        "order by ctid limit (select count(*) / 2 from gate_backup.natural_person_xref))",
    )
    assert_blocked(warehouse_url, "gate-grown-xref", {("natural_person_xref", ROW_COUNT)})


# --- the original end-to-end case, last: it rebuilds and republishes ---------------------


def test_a_corrupt_build_is_not_published(world, settings, warehouse_url):
    warehouse = params_from_url(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        published = conn.execute(
            "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
            "order by person_id)) from mdm.natural_person"
        ).fetchone()
        analyst_view = conn.execute("select count(*) from analyst.natural_person").fetchone()
        # Something breaks the next build: two persons end up with one valid ID number, and
        # a relation points at a person that does not exist.
        conn.execute(
            """update mdm_build.natural_person set id_number = (
                   select id_number from mdm_build.natural_person
                   where std.is_valid_id_number(id_number) order by person_id limit 1)
               where person_id in (select person_id from mdm_build.natural_person
                                   where std.is_valid_id_number(id_number)
                                   order by person_id limit 50)"""
        )
        conn.execute(
            "update mdm_build.relation set from_id = 'P9999999999' where ctid in "
            "(select ctid from mdm_build.relation limit 1)"
        )
        conn.commit()
    with pytest.raises(publish.PublishBlockedError) as blocked:
        publish.audit_and_publish(warehouse, "corrupt")
    message = str(blocked.value)
    assert "no valid ID number belongs to two persons" in message
    assert "both ends of every relation" in message
    with psycopg.connect(warehouse_url) as conn:
        after = conn.execute(
            "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
            "order by person_id)) from mdm.natural_person"
        ).fetchone()
        stored = conn.execute(
            "select count(*) filter (where not success) from ops.validation_result "
            "where dataset = 'publish' and delivery_id like 'corrupt:%'"
        ).fetchone()[0]
        assert (
            conn.execute("select count(*) from analyst.natural_person").fetchone() == analyst_view
        )
    assert after == published
    assert stored == 2
    # The next good build publishes again.
    build.build_repositories(settings, warehouse, "fixed")
    with psycopg.connect(warehouse_url) as conn:
        assert (
            conn.execute(
                "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
                "order by person_id)) from mdm.natural_person"
            ).fetchone()
            == published
        )
