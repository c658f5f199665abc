"""Reruns change nothing, a real change adds exactly one version, and readers never see an
empty or missing table while a publish runs (also when the table's shape changes).

One small world, built and published once, in the landing zone ``mdm run`` reads.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import build_world, register_row

from mdm import build, publish
from mdm.cli import main
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset
from mdm_tools.generate.deliver import make_delivery, write_delivery

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HISTORY = ("natural_person_history", "legal_person_history")


@pytest.fixture(scope="module")
def world(settings, warehouse_url) -> Iterator[object]:  # type: ignore[no-untyped-def]
    if settings.landing_dir.exists():
        shutil.rmtree(settings.landing_dir)
    # build_world writes the drops to <folder>/landing: the landing zone `mdm run` reads.
    assert settings.landing_dir == settings.home / "landing"
    summary, _ = build_world(settings, warehouse_url, settings.home, 300, 41)
    yield summary
    shutil.rmtree(settings.landing_dir, ignore_errors=True)


def state(warehouse_url: str) -> dict[str, object]:
    """What a rerun must not change: published rows, their history, the resolution."""
    tables = [f"mdm.{t}" for t in publish.TABLES] + [f"mdm_history.{t}" for t in HISTORY]
    tables += ["resolve.person_record", "resolve.legal_person_record", "resolve.entity_event"]
    with psycopg.connect(warehouse_url) as conn:
        return {
            table: conn.execute(
                f"select count(*), md5(string_agg(t::text, E'\\n' order by t::text)) "
                f"from {table} as t"
            ).fetchone()
            for table in tables
        }


def history_rows(warehouse_url: str) -> dict[str, int]:
    with psycopg.connect(warehouse_url) as conn:
        return {
            t: conn.execute(f"select count(*) from mdm_history.{t}").fetchone()[0]  # type: ignore[index]
            for t in HISTORY
        }


def test_rerunning_the_same_date_changes_nothing(world, settings, warehouse_url, airflow_metadata):
    warehouse = params_from_url(warehouse_url)
    before = state(warehouse_url)
    assert all(n > 0 for n in history_rows(warehouse_url).values())

    build.build_repositories(settings, warehouse, "rerun-build")
    assert state(warehouse_url) == before

    publish.audit_and_publish(warehouse, "rerun-publish")
    assert state(warehouse_url) == before

    with psycopg.connect(warehouse_url) as conn:
        (last_day,) = conn.execute(
            "select max(left(delivery_id, 8)) from ops.delivery where channel = 'file'"
        ).fetchone()  # type: ignore[misc]
    date = f"{last_day[:4]}-{last_day[4:6]}-{last_day[6:]}"
    assert main(["run", "--date", date]) == 0
    assert state(warehouse_url) == before


def test_a_register_name_change_adds_exactly_one_version(world, settings, warehouse_url):
    warehouse = params_from_url(warehouse_url)
    person_id, _, row = register_row(warehouse_url, "p.name_source = 'gat_czrk'")
    old_name = row["XM"]
    new_name = "覃" + old_name[1:] if not old_name.startswith("覃") else "韦" + old_name[1:]
    before = history_rows(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        (last_day,) = conn.execute(
            "select max(left(delivery_id, 8)) from ops.delivery where channel = 'file'"
        ).fetchone()  # type: ignore[misc]
    day = dt.datetime.strptime(last_day, "%Y%m%d").date() + dt.timedelta(days=1)  # noqa: DTZ007
    row |= {"XM": new_name, "CZBS": "U", "GXSJ": f"{day:%Y%m%d}090000"}
    spec = dataset("gat_czrk")
    write_delivery(
        settings.landing_dir, make_delivery(spec, day, 1, "delta", {"all": [row]}), spec.provider
    )
    report = ingest_file_drops(warehouse, settings.landing_dir, spec, "rename")
    assert report is not None
    build.build_observations(settings, warehouse, "rename")
    build.resolve_entities(warehouse, "rename")
    build.build_repositories(settings, warehouse, "rename")

    after = history_rows(warehouse_url)
    assert after == {
        "natural_person_history": before["natural_person_history"] + 1,
        "legal_person_history": before["legal_person_history"],
    }
    with psycopg.connect(warehouse_url) as conn:
        versions = conn.execute(
            "select name, dbt_valid_to is null from mdm_history.natural_person_history "
            "where person_id = %s order by dbt_valid_from",
            (person_id,),
        ).fetchall()
    assert versions == [(old_name, False), (new_name, True)]
    with psycopg.connect(warehouse_url) as conn:
        nodes = conn.execute(
            """select node->>'node' from ops.run_log, jsonb_array_elements(detail->'nodes') node
               where run_id = 'rename' and step = 'build_repositories'"""
        ).fetchall()
        # A day's rows need no view rebuilt: the analysts' view reads the new name as it is.
        assert nodes and not [n for (n,) in nodes if "analyst" in n]
        assert conn.execute(
            "select count(*) from analyst.natural_person where name = %s", (new_name,)
        ).fetchone()[0]  # type: ignore[index]


def test_the_current_versions_are_the_published_rows(world, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        for table, (history, _) in publish.HISTORY.items():
            columns = ", ".join(
                f'"{c}"' for c in publish._columns(conn, publish.PUBLISHED_SCHEMA, table)
            )
            differ = conn.execute(
                f"(select {columns} from mdm.{table} except all "
                f"select {columns} from mdm_history.{history} where dbt_valid_to is null) "
                f"union all (select {columns} from mdm_history.{history} "
                f"where dbt_valid_to is null except all select {columns} from mdm.{table})"
            ).fetchall()
            assert differ == [], table


# --- readers during a publish -----------------------------------------------------------


class HeldPublish:
    """A publish held open just before its commit: another session locks ``ops.run_log``,
    which the publish writes last, in its transaction."""

    def __init__(self, warehouse_url: str, run_id: str) -> None:
        self.url, self.run_id = warehouse_url, run_id
        self.error: BaseException | None = None

    def __enter__(self) -> HeldPublish:
        self.blocker = psycopg.connect(self.url)
        self.blocker.execute("lock table ops.run_log in share row exclusive mode")
        self.thread = threading.Thread(target=self._publish)
        self.thread.start()
        self._wait_until_blocked()
        return self

    def _publish(self) -> None:
        try:
            publish.publish(params_from_url(self.url), self.run_id)
        except BaseException as error:  # reported by the test
            self.error = error

    def _wait_until_blocked(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for _ in range(600):
                waiting = conn.execute(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                    "and query like '%%insert into ops.run_log%%'"
                ).fetchone()[0]  # type: ignore[index]
                if waiting:
                    return
                assert self.thread.is_alive(), f"publish ended unblocked: {self.error}"
                time.sleep(0.1)
        raise AssertionError("the publish never reached its commit")

    def __exit__(self, *exc: object) -> None:
        self.blocker.rollback()
        self.blocker.close()
        self.thread.join(timeout=120)
        assert self.error is None, self.error


def read(warehouse_url: str, query: str) -> object:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("set statement_timeout = '120s'")
        return conn.execute(query).fetchone()[0]  # type: ignore[index]


def test_readers_see_the_previous_version_until_the_publish_commits(world, warehouse_url):
    persons = read(warehouse_url, "select count(*) from mdm.natural_person")
    with psycopg.connect(warehouse_url) as conn:
        person_id, name = conn.execute(
            "select person_id, name from mdm.natural_person order by person_id limit 1"
        ).fetchone()  # type: ignore[misc]
    name_query = f"select name from mdm.natural_person where person_id = '{person_id}'"
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "update mdm_build.natural_person set name = '改名测试' where person_id = %s",
            (person_id,),
        )
    with HeldPublish(warehouse_url, "readers"):
        # The publish has deleted and re-inserted every table; it has not committed.
        assert read(warehouse_url, "select count(*) from mdm.natural_person") == persons
        assert read(warehouse_url, "select count(*) from analyst.natural_person") == persons
        for table in publish.TABLES:
            assert read(warehouse_url, f"select count(*) > 0 from mdm.{table}")
        assert read(warehouse_url, name_query) == name
    assert read(warehouse_url, name_query) == "改名测试"
    assert read(warehouse_url, "select count(*) from analyst.natural_person") == persons


def test_a_new_column_reaches_readers_without_an_empty_or_missing_table(world, warehouse_url):
    persons = read(warehouse_url, "select count(*) from mdm.natural_person")
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        # The next build brings a new column.
        conn.execute("alter table mdm_build.natural_person add column nickname text")
        conn.execute("update mdm_build.natural_person set nickname = 'n-' || person_id")
    seen: list[object] = []

    def reader() -> None:
        try:
            seen.append(read(warehouse_url, "select count(*) from analyst.natural_person"))
        except psycopg.Error as error:
            seen.append(error)

    with HeldPublish(warehouse_url, "new-column"):
        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(1)  # the reader is waiting for the publish, or has read the old version
    thread.join(timeout=120)
    assert seen == [persons]
    # The analysts' view survived the publish (no dbt run in between) and the column is there.
    assert read(warehouse_url, "select count(*) from analyst.natural_person") == persons
    assert read(warehouse_url, "select count(nickname) from mdm.natural_person") == persons
