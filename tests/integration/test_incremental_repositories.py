"""Incremental golden records and publishing the difference.

Over several days of a small world (a rename, a generated day with new, changed and late
records, a steward's merge, a delete, a full re-delivery), each day's incremental build
publishes exactly what a ``--full-refresh`` build of the same state gives, row for row (no
column is excluded: first_seen and first_seen_at come from resolve.*, not the build's clock).
A day touching one entity rewrites only its rows, in mdm_build and in mdm (an unchanged row
keeps its tuple, so its ``ctid``/``xmin``: no dead tuple, no history version). A broken
touched set makes the comparison fail.

One small world is built and published once for the module; the tests run in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ingest_support import build_world, register_row, resolve_day
from psycopg import sql

from mdm import build, publish
from mdm.connections import ConnParams, params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset
from mdm.resolve.steward import record_decision
from mdm.transform import run_dbt
from mdm_tools.generate.deliver import make_delivery, write_delivery

pytestmark = pytest.mark.integration


PERSONS, SEED = 300, 43


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("incremental")
    build_world(settings, warehouse_url, folder, PERSONS, SEED)
    yield folder


def build_day(settings, warehouse: ConnParams, run_id: str) -> None:  # type: ignore[no-untyped-def]
    """The daily build from the observations on (the repositories incremental)."""
    build.build_observations(settings, warehouse, run_id)
    build.resolve_entities(warehouse, run_id)
    build.build_repositories(settings, warehouse, run_id)


def differences_from_full_build(settings, warehouse_url: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rebuild the repositories with --full-refresh and compare them with what the incremental
    build published: the rows in one and not the other, per table (empty: equal). First,
    the publish gate's counts kept with the published tables are theirs (a scoped audit
    reads them instead of a pass over every golden record)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for table in publish.MEASURED:
            kept = dict(
                conn.execute(
                    "select measure, value from ops.publish_measure where table_name = %s",
                    (table,),
                ).fetchall()
            )
            counted = publish.whole_measures(conn, table, sql.Identifier("mdm", table))
            rows = conn.execute(f"select count(*) from mdm.{table}").fetchone()[0]  # type: ignore[index]
            assert kept == {**counted, "rows": rows}, table
        conn.execute("drop schema if exists incremental_check cascade")
        conn.execute("create schema incremental_check")
        for table in publish.TABLES:
            conn.execute(f"create table incremental_check.{table} as select * from mdm.{table}")
    warehouse = params_from_url(warehouse_url)
    run_dbt(settings, warehouse, ["build", "--full-refresh", *build.AFTER_RESOLUTION])
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        found = {
            table: conn.execute(
                f"select count(*) from ((select * from incremental_check.{table} except "
                f"select * from mdm_build.{table}) union all (select * from mdm_build.{table} "
                f"except select * from incremental_check.{table})) d"
            ).fetchone()[0]  # type: ignore[index]
            for table in publish.TABLES
        }
        conn.execute("drop schema incremental_check cascade")
    # and the full build published over the incremental one changes nothing when equal
    publish.publish(warehouse, "incremental-check")
    assert (
        changes(warehouse_url, "incremental-check")
        == dict.fromkeys(publish.TABLES, {"deleted": 0, "inserted": 0})
    ) == (not any(found.values()))
    return {t: n for t, n in found.items() if n}


def changes(warehouse_url: str, run_id: str) -> dict[str, dict[str, int]]:
    """The rows a publish deleted and inserted per table (ops.run_log)."""
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(  # type: ignore[index]
            "select detail -> 'changes' from ops.run_log where run_id = %s and step = 'publish'",
            (run_id,),
        ).fetchone()[0]


def touched(warehouse_url: str) -> set[tuple[str, str]]:
    with psycopg.connect(warehouse_url) as conn:
        return set(conn.execute("select kind, entity_id from intermediate.int_touched_entities"))


def last_day(warehouse_url: str) -> dt.date:
    with psycopg.connect(warehouse_url) as conn:
        (day,) = conn.execute(
            "select max(left(delivery_id, 8)) from ops.delivery where channel = 'file'"
        ).fetchone()  # type: ignore[misc]
    return dt.datetime.strptime(day, "%Y%m%d").date()  # noqa: DTZ007


def deliver(  # type: ignore[no-untyped-def]
    settings, warehouse_url: str, code: str, mode: str, rows: list[dict[str, str]], run_id: str
) -> None:
    """One delivery of ``rows`` dated the day after the last, ingested. Sequence 9: never the
    id of a generated delivery of that day."""
    spec = dataset(code)
    day = last_day(warehouse_url) + dt.timedelta(days=1)
    write_delivery(
        settings.landing_dir, make_delivery(spec, day, 9, mode, {"all": rows}), spec.provider
    )
    report = ingest_file_drops(params_from_url(warehouse_url), settings.landing_dir, spec, run_id)
    assert report is not None


def tuples_of(conn: psycopg.Connection, schema: str, table: str, key: str) -> dict[str, str]:
    """Each row's key -> its tuple's identity (ctid and xmin)."""
    return dict(
        conn.execute(f"select {key}, ctid::text || '/' || xmin::text from {schema}.{table}")
    )


def test_a_day_touching_one_person_rewrites_only_its_rows(world, settings, warehouse_url):
    assert differences_from_full_build(settings, warehouse_url) == {}
    person_id, record_key, row = register_row(warehouse_url, "p.name_source = 'gat_czrk'")
    day = last_day(warehouse_url) + dt.timedelta(days=1)
    row |= {"XM": row["XM"][:1] + "改" + row["XM"][2:], "CZBS": "U", "GXSJ": f"{day:%Y%m%d}090000"}
    with psycopg.connect(warehouse_url) as conn:
        before = {
            schema: tuples_of(conn, schema, "natural_person", "person_id")
            for schema in ("mdm", "mdm_build")
        }
        before_xref = tuples_of(conn, "mdm_build", "natural_person_xref", "dataset || record_key")
    deliver(settings, warehouse_url, "gat_czrk", "delta", [row], "rename")
    build_day(settings, params_from_url(warehouse_url), "rename")

    assert touched(warehouse_url) == {("person", person_id)}
    with psycopg.connect(warehouse_url) as conn:
        # Only the day's records were compared (not every record fingerprinted), and the
        # record state took the day's record changes.
        candidates = set(
            conn.execute("select dataset, record_key from intermediate.int_record_candidates")
        )
        assert candidates == {("gat_czrk", record_key)}
        assert conn.execute("select count(*) from ops.record_change").fetchone() == (0,)
        (published,) = conn.execute(
            "select detail from ops.run_log where run_id = 'rename' and step = 'publish'"
        ).fetchone()  # type: ignore[misc]
        # The audit and the publish compared the touched person's rows, not every row.
        assert published["scoped"]
        assert published["changes"]["natural_person"] == {"deleted": 1, "inserted": 1}
        for schema in ("mdm", "mdm_build"):
            after = tuples_of(conn, schema, "natural_person", "person_id")
            rewritten = {p for p in after if after[p] != before[schema].get(p)}
            assert rewritten == {person_id}, schema
        after_xref = tuples_of(conn, "mdm_build", "natural_person_xref", "dataset || record_key")
        rewritten_xref = {k for k in after_xref if after_xref[k] != before_xref.get(k)}
        assert rewritten_xref <= {
            r[0]
            for r in conn.execute(
                "select dataset || record_key from mdm_build.natural_person_xref "
                "where person_id = %s",
                (person_id,),
            )
        }
    assert differences_from_full_build(settings, warehouse_url) == {}


def test_a_generated_day_equals_a_full_build(world, settings, warehouse_url):
    # New, changed, late and deleted records of the generator's next day.
    resolve_day(settings, warehouse_url, world, PERSONS, SEED, days=4)
    build.build_repositories(settings, params_from_url(warehouse_url), "day-4")
    assert touched(warehouse_url)
    assert differences_from_full_build(settings, warehouse_url) == {}


def test_a_merge_and_a_delete_equal_a_full_build(world, settings, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        (a, a_key), (b, b_key) = conn.execute(
            "select person_id, min(dataset || '|' || record_key) from mdm.natural_person_xref "
            "where is_active group by person_id order by person_id desc limit 2"
        ).fetchall()
        record_decision(
            conn, "must_link", tuple(a_key.split("|")), tuple(b_key.split("|")), "test merge"
        )
    gone_person, _, row = register_row(
        warehouse_url, f"p.source_count = 1 and p.person_id not in ('{a}', '{b}')"
    )
    row |= {"CZBS": "D", "GXSJ": f"{last_day(warehouse_url) + dt.timedelta(days=1):%Y%m%d}090000"}
    deliver(settings, warehouse_url, "gat_czrk", "delta", [row], "merge")
    build_day(settings, params_from_url(warehouse_url), "merge")

    with psycopg.connect(warehouse_url) as conn:
        published = {r[0] for r in conn.execute("select person_id from mdm.natural_person")}
    assert len({a, b} & published) == 1  # one of the two merged away
    assert gone_person not in published
    assert {("person", a), ("person", b), ("person", gone_person)} <= touched(warehouse_url)
    assert differences_from_full_build(settings, warehouse_url) == {}


def test_a_full_redelivery_equals_a_full_build(world, settings, warehouse_url):
    code = "mzt_shzz"
    spec = dataset(code)
    with psycopg.connect(warehouse_url) as conn:
        rows = [
            r[0]
            for r in conn.execute(
                f"select to_jsonb(r) from raw.{code} r where _delivery_id = (select "
                "max(delivery_id) from ops.delivery where dataset = %s and mode = 'full') "
                "order by _line",
                (code,),
            )
        ]
    assert len(rows) > 1
    columns = spec.file_columns("full")
    # the first record is absent from the new full delivery: it ends
    deliver(
        settings, warehouse_url, code, "full",
        [{c: r.get(c.lower()) for c in columns} for r in rows[1:]], "redelivery",
    )  # fmt: skip
    build_day(settings, params_from_url(warehouse_url), "redelivery")
    assert differences_from_full_build(settings, warehouse_url) == {}


def test_a_broken_touched_set_is_caught(world, settings, warehouse_url):
    """The comparison can fail: the record state advanced without recomputing (as if the
    touched set missed the day's entities) leaves the published name stale."""
    _, _, row = register_row(warehouse_url, "p.name_source = 'gat_czrk'")
    day = last_day(warehouse_url) + dt.timedelta(days=1)
    row |= {"XM": row["XM"][:1] + "错" + row["XM"][2:], "CZBS": "U", "GXSJ": f"{day:%Y%m%d}090000"}
    deliver(settings, warehouse_url, "gat_czrk", "delta", [row], "broken")
    warehouse = params_from_url(warehouse_url)
    build.build_observations(settings, warehouse, "broken")
    build.resolve_entities(warehouse, "broken")
    run_dbt(
        settings,
        warehouse,
        [
            "build", "--select",
            "int_record_candidates", "int_touched_entities", "int_record_state",
        ],
    )  # fmt: skip
    build.build_repositories(settings, warehouse, "broken")
    assert touched(warehouse_url) == set()
    assert differences_from_full_build(settings, warehouse_url) != {}
    # the full build repaired it (and published it)
    assert differences_from_full_build(settings, warehouse_url) == {}


def tuples(conn: psycopg.Connection, table: str) -> dict[str, str]:
    """Each published row (as text) -> its tuple's identity (ctid and xmin)."""
    return {
        row: ident
        for row, ident in conn.execute(
            f"select t::text, ctid::text || '/' || xmin::text from mdm.{table} as t"
        )
    }


def difference(conn: psycopg.Connection, table: str) -> list[object]:
    """Rows in one of mdm and mdm_build and not the other."""
    return conn.execute(
        f"(select 'published', * from (select * from mdm.{table} except "
        f"select * from mdm_build.{table}) a) union all "
        f"(select 'build', * from (select * from mdm_build.{table} except "
        f"select * from mdm.{table}) b)"
    ).fetchall()


def test_publish_rewrites_only_the_rows_that_changed(world, warehouse_url):
    """Last: it edits mdm_build by hand."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        before = {t: tuples(conn, t) for t in publish.TABLES}
        assert all(before.values())
        # A day's change in the build: a person renamed, one gone (merged away, with its
        # records moved to another person), an organisation's relation ended.
        renamed, gone, survivor = (
            r[0]
            for r in conn.execute(
                "select person_id from mdm_build.natural_person order by person_id limit 3"
            )
        )
        conn.execute(
            "update mdm_build.natural_person set name = name || '改' where person_id = %s",
            (renamed,),
        )
        conn.execute(
            "update mdm_build.relation set from_id = %s where from_id = %s", (survivor, gone)
        )
        conn.execute("update mdm_build.relation set to_id = %s where to_id = %s", (survivor, gone))
        conn.execute(
            "update mdm_build.natural_person_xref set person_id = %s where person_id = %s",
            (survivor, gone),
        )
        conn.execute("delete from mdm_build.natural_person where person_id = %s", (gone,))
        ended = conn.execute(
            "update mdm_build.relation set valid_to = date '2026-01-01' where ctid = "
            "(select min(ctid) from mdm_build.relation where valid_to is null) "
            "returning from_id, to_id"
        ).fetchone()
        assert ended is not None

    rows = publish.publish(params_from_url(warehouse_url), "incremental-publish")
    changed = changes(warehouse_url, "incremental-publish")

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for table in publish.TABLES:
            assert difference(conn, table) == [], table
        after = {t: tuples(conn, t) for t in publish.TABLES}
    for table in publish.TABLES:
        kept = before[table].keys() & after[table].keys()
        # Every row that is the same is the same tuple: not deleted and inserted again.
        assert {r: after[table][r] for r in kept} == {r: before[table][r] for r in kept}, table
        assert changed[table] == {
            "deleted": len(before[table].keys() - after[table].keys()),
            "inserted": len(after[table].keys() - before[table].keys()),
        }, table
    assert changed["natural_person"] == {"deleted": 2, "inserted": 1}
    assert changed["legal_person"] == {"deleted": 0, "inserted": 0}
    assert changed["natural_person_xref"]["inserted"] >= 1
    assert changed["relation"]["inserted"] >= 1

    # Publishing the same build again writes nothing.
    again = publish.publish(params_from_url(warehouse_url), "incremental-publish-again")
    assert again == rows == {t: len(after[t]) for t in publish.TABLES}
    assert all(
        c == {"deleted": 0, "inserted": 0}
        for c in changes(warehouse_url, "incremental-publish-again").values()
    )
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert {t: tuples(conn, t) for t in publish.TABLES} == after
