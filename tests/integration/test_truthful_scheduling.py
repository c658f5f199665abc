"""Truthful scheduling (docs/adr/0014): an ingestion DAG emits its ``raw.<dataset>`` Asset
event only when a delivery loaded rows, the event naming the deliveries and their rows; and
``mdm_build`` builds only when something arrived since the last build that published, and
otherwise stops at its first task, saying why (as its 08:00 fallback run does on a quiet day).

Real DAG runs (``dag.test()``), a real warehouse and Airflow metadata database. The tests of
this module run in order on one landing zone: a first ingestion, runs that load nothing, a
first build, a run of the build with nothing new, a new delivery and the build it brings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ingest_support import reset_world

from mdm import db
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset, datasets
from mdm_tools.generate import GenerateConfig, GenerateSummary, generate
from mdm_tools.generate.deliver import ENCODINGS, Delivery, resend, write_delivery

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY_ONE, DAY_TWO = "20261101", "20261102"
# The tasks of mdm_build that run dbt, resolution and publish.
BUILD_TASKS = ("build_observations", "resolve_entities", "build_repositories")


@pytest.fixture(scope="module")
def world() -> GenerateSummary:
    return generate(GenerateConfig(persons=300, orgs=40, days=2, seed=18))


@pytest.fixture(scope="module")
def landing(world, settings, warehouse_url, airflow_metadata) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """An empty deployment whose landing zone holds both days' clean file deliveries."""
    reset_world(settings, warehouse_url)
    landing = settings.landing_dir
    if landing.exists():
        shutil.rmtree(landing)
    for delivery in world.deliveries:
        # the datasets the registry describes (the generator may be ahead of it)
        if delivery.wave == 1 and delivery.dataset in datasets():
            write_delivery(landing, delivery, dataset(delivery.dataset).provider)
    yield landing
    shutil.rmtree(landing, ignore_errors=True)


def _delivery(world: GenerateSummary, code: str, day: str) -> Delivery:
    return next(d for d in world.deliveries if d.dataset == code and d.delivery_id.startswith(day))


def _raw_events(settings, run_id: str, code: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with psycopg.connect(db.airflow_url(settings)) as conn:
        return [
            row[0]
            for row in conn.execute(
                "select e.extra from asset_event e join asset a on a.id = e.asset_id "
                "where a.name = %s and e.source_run_id = %s",
                (f"raw.{code}", run_id),
            )
        ]


def _ledger_rows(warehouse_url: str, code: str, delivery_id: str) -> tuple[str, int, int]:
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(
            "select status, rows_loaded, rows_quarantined from ops.delivery "
            "where dataset = %s and delivery_id = %s",
            (code, delivery_id),
        ).fetchone()
    assert row is not None, (code, delivery_id)
    return row[0], int(row[1]), int(row[2])


def _run_log(warehouse_url: str, run_id: str) -> dict[str, tuple[str, float, dict[str, Any]]]:
    """step -> (status, seconds, detail) of one run."""
    with psycopg.connect(warehouse_url) as conn:
        return {
            step: (status, seconds, detail)
            for step, status, seconds, detail in conn.execute(
                "select step, status, extract(epoch from finished_at - started_at)::float, "
                "detail from ops.run_log where run_id = %s",
                (run_id,),
            )
        }


def _extra_field(data: bytes, encoding: str) -> bytes:
    """Every data line of a CSV file with one field too many (each is quarantined)."""
    lines = data.decode(encoding).splitlines(keepends=True)
    return (lines[0] + "".join(line.rstrip("\r\n") + ",多余字段\r\n" for line in lines[1:])).encode(
        encoding
    )


def _ingest(settings, code: str, until: str = DAY_ONE):  # type: ignore[no-untyped-def]
    from mdm.orchestration import run_dag

    return run_dag(settings, f"mdm_ingest_{code}", conf={"until": until})


def test_an_ingestion_that_loads_rows_emits_one_event_naming_the_delivery(
    landing, settings, warehouse_url
):
    outcome = _ingest(settings, "gat_czrk")

    status, rows, _ = _ledger_rows(warehouse_url, "gat_czrk", f"{DAY_ONE}-01")
    assert status == "loaded" and rows > 0
    assert _raw_events(settings, outcome.run_id, "gat_czrk") == [
        {
            "dataset": "gat_czrk",
            "deliveries": [{"delivery_id": f"{DAY_ONE}-01", "rows_loaded": rows}],
            "rows_loaded": rows,
        }
    ]
    assert outcome.task_states["announce"] == "success"


def test_an_ingestion_that_loads_nothing_emits_no_event(landing, world, settings, warehouse_url):
    from mdm.orchestration import DagRunFailedError

    def assert_no_event(run_id: str, task_states: dict[str, str]) -> None:
        assert _raw_events(settings, run_id, "gat_czrk") == []
        assert task_states["announce"] == "skipped", task_states

    # Nothing new: the day-one delivery is loaded already.
    rerun = _ingest(settings, "gat_czrk")
    assert_no_event(rerun.run_id, rerun.task_states)

    # The same delivery re-sent unchanged: a recorded duplicate, nothing loaded.
    resend(landing / "gat_czrk" / f"{DAY_ONE}-01")
    duplicate = _ingest(settings, "gat_czrk")
    assert_no_event(duplicate.run_id, duplicate.task_states)
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select count(*) from ops.delivery_event where event = 'duplicate' and run_id = %s",
            (duplicate.run_id,),
        ).fetchone() == (1,)

    # A delta whose every row is quarantined (a field too many on each line): attached, no rows.
    delta = _delivery(world, "gat_czrk", DAY_TWO)
    encoding = ENCODINGS[delta.declared_encoding]
    bad = dataclasses.replace(
        delta,
        delivery_id=f"{DAY_ONE}-02",
        files={name: _extra_field(data, encoding) for name, data in delta.files.items()},
    )
    write_delivery(landing, bad, dataset("gat_czrk").provider)
    quarantined = _ingest(settings, "gat_czrk")
    assert _ledger_rows(warehouse_url, "gat_czrk", bad.delivery_id) == (
        "partially_quarantined",
        0,
        sum(delta.rows.values()),
    )
    assert_no_event(quarantined.run_id, quarantined.task_states)

    # A rejected delivery (a file that does not match its manifest's checksum) fails the run
    # at check_deliveries, and emits nothing.
    rejected = dataclasses.replace(delta, delivery_id=f"{DAY_ONE}-03")
    folder = write_delivery(landing, rejected, dataset("gat_czrk").provider)
    part = next(p for p in folder.iterdir() if p.name != "_manifest.json")
    part.write_bytes(part.read_bytes() + b"tampered")
    with pytest.raises(DagRunFailedError, match="check_deliveries") as failed:
        _ingest(settings, "gat_czrk")
    assert _ledger_rows(warehouse_url, "gat_czrk", rejected.delivery_id)[0] == "rejected"
    assert failed.value.outcome is not None
    assert_no_event(failed.value.outcome.run_id, failed.value.outcome.task_states)


@pytest.fixture(scope="module")
def first_build(landing, settings, warehouse_url):  # type: ignore[no-untyped-def]
    """Day one of every file dataset loaded and built: the build the next runs compare with."""
    from mdm.orchestration import run_dag

    for spec in datasets().values():
        if spec.channel == "file":  # gat_czrk's day one is in already after the tests above
            ingest_file_drops(params_from_url(warehouse_url), landing, spec, "test", (), DAY_ONE)
    outcome = run_dag(settings, "mdm_build")
    assert {t: outcome.task_states[t] for t in BUILD_TASKS} == dict.fromkeys(BUILD_TASKS, "success")
    return outcome


def test_the_build_with_nothing_new_since_the_last_stops_in_seconds(
    first_build, settings, warehouse_url
):
    from mdm.orchestration import run_dag

    # Nothing loaded since the last build (the 08:00 fallback on a quiet day, or the run
    # queued by a second ingestion DAG's event): the check says so, the build is skipped,
    # only the daily access upkeep runs.
    started = time.monotonic()
    quiet = run_dag(settings, "mdm_build")
    seconds = time.monotonic() - started
    assert {t: quiet.task_states[t] for t in BUILD_TASKS} == dict.fromkeys(BUILD_TASKS, "skipped")
    assert quiet.task_states["refresh_access"] == "success"
    steps = _run_log(warehouse_url, quiet.run_id)
    assert not set(BUILD_TASKS) & set(steps), steps  # no dbt, no resolution, no publish
    status, check_seconds, detail = steps["check_new_data"]
    assert status == "success" and detail["build"] is False, detail
    assert detail["last_build"] == first_build.run_id and detail["deliveries"] == []
    assert detail["reason"].startswith(f"nothing new since build {first_build.run_id}")
    assert check_seconds < 5 and seconds < 60, (check_seconds, seconds)  # 0.1 s and 4 s here

    # The first build's check had listed what it built.
    built = _run_log(warehouse_url, first_build.run_id)["check_new_data"][2]
    assert built["build"] is True
    assert ("gat_czrk", f"{DAY_ONE}-01") in {
        (d["dataset"], d["delivery_id"]) for d in built["deliveries"]
    }


def test_the_build_after_a_delivery_loaded_builds_and_names_it(
    first_build, settings, warehouse_url
):
    from mdm.orchestration import run_dag

    # Day two of one dataset, through its DAG: its event triggers the build, which builds.
    arrived = _ingest(settings, "mzt_hydj", DAY_TWO)
    (event,) = _raw_events(settings, arrived.run_id, "mzt_hydj")
    new = [d["delivery_id"] for d in event["deliveries"]]
    assert new and all(d.startswith(DAY_TWO) for d in new)
    second = run_dag(settings, "mdm_build")
    assert {t: second.task_states[t] for t in BUILD_TASKS} == dict.fromkeys(BUILD_TASKS, "success")
    detail = _run_log(warehouse_url, second.run_id)["check_new_data"][2]
    assert detail["build"] is True and detail["last_build"] == first_build.run_id
    assert [(d["dataset"], d["delivery_id"]) for d in detail["deliveries"]] == [
        ("mzt_hydj", delivery_id) for delivery_id in new
    ]
    assert detail["reason"].startswith(f"new since build {first_build.run_id}")


def test_force_builds_with_nothing_new(first_build, settings, warehouse_url):
    from mdm.orchestration import dag_conf, run_dag

    # After a change of code or rules nothing "arrived", yet the engineer wants a build:
    # `mdm run --dag mdm_build --force` passes this conf.
    forced = run_dag(settings, "mdm_build", conf=dag_conf("mdm_build", force=True))
    assert {t: forced.task_states[t] for t in BUILD_TASKS} == dict.fromkeys(BUILD_TASKS, "success")
    detail = _run_log(warehouse_url, forced.run_id)["check_new_data"][2]
    assert detail["build"] is True and detail["reason"].startswith("param force")


def test_the_check_waits_for_a_load_in_progress_before_its_cut(first_build, warehouse_url):
    """A load holding its dataset's lock is waited for, so what it commits is before the cut
    (read by this build), never between the cut and the build's read (lost to both builds)."""
    import threading

    from mdm import build
    from mdm.ingest.ledger import lock_key

    loader = psycopg.connect(warehouse_url, autocommit=True)
    loader.execute("select pg_advisory_lock(hashtext(%s))", (lock_key("rst_cbry"),))
    released: list[Any] = []

    def finish_the_load() -> None:
        time.sleep(2)
        released.append(loader.execute("select clock_timestamp()").fetchone()[0])  # type: ignore[index]
        loader.execute("select pg_advisory_unlock(hashtext(%s))", (lock_key("rst_cbry"),))

    thread = threading.Thread(target=finish_the_load)
    thread.start()
    try:
        detail = build.check_new_data(params_from_url(warehouse_url), "test-waits")
    finally:
        thread.join()
        loader.close()
    assert detail["waited_for_loads"] == ["rst_cbry"]
    assert dt.datetime.fromisoformat(detail["cut"]) > released[0]
