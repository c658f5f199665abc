"""Publishing the difference: the published repositories end equal to the audited build, and
only the rows that changed are rewritten (an unchanged row keeps its tuple, so its ``xmin``
and ``ctid``; no dead tuples, no history version).

One small world is built and published once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import build_world

from mdm import publish
from mdm.connections import params_from_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory) -> Iterator[None]:  # type: ignore[no-untyped-def]
    build_world(settings, warehouse_url, tmp_path_factory.mktemp("incremental"), 300, 43)
    yield


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

    changes = publish.publish(params_from_url(warehouse_url), "incremental-publish")

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for table in publish.TABLES:
            assert difference(conn, table) == [], table
        after = {t: tuples(conn, t) for t in publish.TABLES}
    for table in publish.TABLES:
        kept = before[table].keys() & after[table].keys()
        # Every row that is the same is the same tuple: not deleted and inserted again.
        assert {r: after[table][r] for r in kept} == {r: before[table][r] for r in kept}, table
        assert changes[table] == {
            "deleted": len(before[table].keys() - after[table].keys()),
            "inserted": len(after[table].keys() - before[table].keys()),
        }, table
    assert changes["natural_person"] == {"deleted": 2, "inserted": 1}
    assert changes["legal_person"] == {"deleted": 0, "inserted": 0}
    assert changes["natural_person_xref"]["inserted"] >= 1
    assert changes["relation"]["inserted"] >= 1

    # Publishing the same build again writes nothing.
    again = publish.publish(params_from_url(warehouse_url), "incremental-publish-again")
    assert all(c == {"deleted": 0, "inserted": 0} for c in again.values())
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert {t: tuples(conn, t) for t in publish.TABLES} == after
