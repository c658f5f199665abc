"""Build -> audit -> publish under one lock, and a publish that does not queue readers."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from ingest_support import build_world

from mdm import build, publish
from mdm.connections import params_from_url

pytestmark = pytest.mark.integration

FINGERPRINT = (
    "select count(*), md5(string_agg(person_id || coalesce(id_number, ''), ',' "
    "order by person_id)) from {}.natural_person"
)


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    build_world(settings, warehouse_url, tmp_path_factory.mktemp("world"), 300, 43)
    return params_from_url(warehouse_url)


def test_a_second_build_cannot_rebuild_what_the_first_audited_before_it_published(
    world, settings, warehouse_url, monkeypatch
):
    with publish.build_lock(world, "A"):
        # Build A has audited mdm_build and is about to publish it.
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("comment on table mdm_build.natural_person is 'audited by A'")
            audited = conn.execute(FINGERPRINT.format("mdm_build")).fetchone()
        monkeypatch.setattr(publish, "BUILD_LOCK_WAIT_SECONDS", 2)
        started = time.monotonic()
        with pytest.raises(publish.BuildLockedError) as locked:
            build.build_repositories(settings, world, "B")
        assert time.monotonic() - started < 30
        message = str(locked.value)
        assert "another build holds the build lock" in message
        assert "mdm build lock A" in message and "nothing was built or published" in message
        with psycopg.connect(warehouse_url) as conn:
            # B built nothing: mdm_build is still the table A audited.
            assert conn.execute(
                "select obj_description('mdm_build.natural_person'::regclass)"
            ).fetchone() == ("audited by A",)
            assert conn.execute(FINGERPRINT.format("mdm_build")).fetchone() == audited
    # A is done: B builds and publishes.
    build.build_repositories(settings, world, "B")
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select status from ops.run_log where run_id = 'B' and step = 'publish'"
        ).fetchone() == ("success",)


def test_publish_gives_up_on_a_lock_held_by_a_long_query_and_keeps_the_previous_version(
    world, warehouse_url, monkeypatch
):
    monkeypatch.setattr(publish, "PUBLISH_LOCK_TIMEOUT_MS", 500)
    monkeypatch.setattr(publish, "PUBLISH_ATTEMPTS", 2)
    monkeypatch.setattr(publish, "PUBLISH_RETRY_PAUSE_SECONDS", 0.2)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        previous = conn.execute(FINGERPRINT.format("mdm")).fetchone()
        # A new shape: publishing drops and recreates the published table.
        conn.execute("alter table mdm_build.natural_person add column probe int")
    analyst = psycopg.connect(warehouse_url)  # a long analyst transaction, reading
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            publish.publish(world, "behind_a_reader")
        except BaseException as err:
            outcome["error"] = err

    try:
        assert analyst.execute(FINGERPRINT.format("mdm")).fetchone() == previous
        started = time.monotonic()
        publisher = threading.Thread(target=run, daemon=True)
        publisher.start()
        publisher.join(30)
        if publisher.is_alive():  # queued behind the reader (and every reader behind it)
            with psycopg.connect(warehouse_url, autocommit=True) as conn:
                conn.execute(
                    "select pg_cancel_backend(pid) from pg_stat_activity "
                    "where wait_event_type = 'Lock' and query ilike 'drop table%'"
                )
            publisher.join(30)
            pytest.fail("publish waited for the analyst's query without a lock timeout")
        elapsed = time.monotonic() - started
        error = outcome.get("error")
        assert isinstance(error, publish.PublishLockTimeoutError), error
        assert "the previous version stays published" in str(error)
        assert elapsed < 10
        # Readers, the long one and a new one, still see the previous version.
        assert analyst.execute(FINGERPRINT.format("mdm")).fetchone() == previous
        with psycopg.connect(warehouse_url) as reader:
            reader.execute("set statement_timeout = '2s'")
            assert reader.execute(FINGERPRINT.format("mdm")).fetchone() == previous
            assert reader.execute(
                "select count(*) from ops.run_log where run_id = 'behind_a_reader'"
            ).fetchone() == (0,)
    finally:
        analyst.close()
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("alter table mdm_build.natural_person drop column if exists probe")
    # Once the reader is gone, the same publish goes through.
    assert publish.publish(world, "after_the_reader")["natural_person"] == previous[0]
