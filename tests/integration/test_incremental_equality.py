"""Equality, always: the daily runs publish what one build from nothing publishes.

A world of five days, with every delivery defect the generator makes, register records
cancelled (``CZBS = D``), front-end rows deleted (``SCBZ = 1``), full re-deliveries (the
weekly fulls of the defect day, one of them partly quarantined, so its missing records end)
and late arrivals (a delivery extracted nine days before, a full arriving after the delta
that follows it, a re-send), plus a steward decision, is replayed day by day through
``mdm run`` (the DAGs under ``dag.test()``). Then ingestion and every dbt model are built
again from nothing over the final landing zone with ``--full-refresh`` (``DBT_FULL_REFRESH``
reaches dbt inside the DAG tasks); the published tables must be equal row for row.

What is kept between the two builds is the resolution's state (``resolve.*``): persistent
ids are handed out in the order records arrive, so they are state, not something a rebuild
derives. Whether resolving everything at once would group the records the same way is
``mdm resolve run --full``'s question, asked at the end of the daily replay.

This is the guard for making staging, observations, golden records and publish
incremental: an optimisation, never a different answer.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import psycopg
import pytest
from ingest_support import reset_ingestion, reset_world

from mdm import db
from mdm.cli import main
from mdm.orchestration import DAILY_CHAIN
from mdm.publish import TABLES
from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PERSONS, ORGS, DAYS, SEED = 300, 40, 5, 61
START = dt.date(2026, 11, 1)
# Saved copy of what the daily runs published.
DAILY = "test_equality_daily"
# Columns that record when a run processed something (wall clock): two runs cannot agree
# on them, so they are left out of the comparison, and only they. Empty today: the rebuild
# keeps the resolution's state, where first_seen comes from (resolve.*.first_seen_at).
WALL_CLOCK: dict[str, set[str]] = {}
# What the rebuild drops: everything dbt and ingestion built (the published tables go with
# reset_world's list; the resolution's state stays).
DBT_SCHEMAS = ("staging", "intermediate", "mdm_build")
# Incremental intermediate models whose every column is compared as well: the expected
# certificates' references and the checks decide a certificate's outcome.
INTERMEDIATE = ("int_certificate_expected", "int_certificate_checks")


def _config(days: int) -> GenerateConfig:
    return GenerateConfig(
        persons=PERSONS, orgs=ORGS, days=days, seed=SEED, defects=True, deletes=True
    )


def _date(day: int) -> str:
    return (START + dt.timedelta(days=day - 1)).isoformat()


def _run(day: int) -> int:
    """``mdm run`` of the day: the platform check on day 1 only, no quality scorecard, no
    correction loop and no credit profile (the data is this test's subject; those DAGs are
    tested on their own)."""
    skipped = ("mdm_quality", "mdm_corrections", "mdm_credit")
    dags = [d for d in DAILY_CHAIN if d not in skipped and (day == 1 or d != DAILY_CHAIN[0])]
    return main(["run", "--date", _date(day), *(a for d in dags for a in ("--dag", d))])


def _compared_columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        if name not in WALL_CLOCK.get(table, set())
    ]


def published_differences(warehouse_url: str) -> dict[str, dict[str, object]]:
    """Per published table: rows only in the daily runs' copy, rows only in mdm (a few
    examples each), and whether the columns are the same."""
    differences: dict[str, dict[str, object]] = {}
    with psycopg.connect(warehouse_url) as conn:
        for table in TABLES:
            columns = _compared_columns(conn, "mdm", table)
            if columns != _compared_columns(conn, DAILY, table):
                differences[table] = {"columns": (columns, _compared_columns(conn, DAILY, table))}
                continue
            listed = ", ".join(f'"{c}"' for c in columns)
            only = {}
            for name, left, right in (("only_daily", DAILY, "mdm"), ("only_rebuild", "mdm", DAILY)):
                only[name] = conn.execute(
                    f"select {listed} from {left}.{table} except all "  # noqa: S608
                    f"select {listed} from {right}.{table} limit 5"
                ).fetchall()
            if any(only.values()):
                differences[table] = only
    return differences


def _rows(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608


def _steward_merge(warehouse_url: str) -> list[str]:
    """Two register records of two different published persons: the steward's merge."""
    with psycopg.connect(warehouse_url) as conn:
        first, second = conn.execute(
            """select distinct on (person_id) record_key from resolve.person_record
               where dataset = 'gat_czrk' order by person_id, record_key limit 2"""
        ).fetchall()
    return [f"gat_czrk/{first[0]}", f"gat_czrk/{second[0]}"]


def _frontend_delete(frontend_url: str) -> None:
    """The tax office deletes a taxpayer in its front end (``SCBZ = 1``, a newer GXSJ): a
    small world's five days may bring no death of a taxpayer, which is the generator's."""
    with psycopg.connect(frontend_url) as conn:
        conn.execute(
            """update public.swj_grnsr set scbz = '1',
                   gxsj = (select max(gxsj) from public.swj_grnsr) + interval '1 second'
               where djxh = (select min(djxh) from public.swj_grnsr where scbz = '0')"""
        )


@pytest.fixture(scope="module")
def replayed(settings, warehouse_url, airflow_metadata, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Five days replayed day by day, then the same landing zone rebuilt from nothing."""
    tmp_path = tmp_path_factory.mktemp("equality")
    monkeypatch = pytest.MonkeyPatch()
    try:
        yield _replay_then_rebuild(settings, warehouse_url, tmp_path, monkeypatch)
    finally:
        monkeypatch.undo()
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(f"drop schema if exists {DAILY} cascade")
        # The next module's world must not find this one's later deliveries waiting.
        reset_world(settings, warehouse_url)
        shutil.rmtree(settings.landing_dir, ignore_errors=True)


def _replay_then_rebuild(settings, warehouse_url, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reset_world(settings, warehouse_url)
    if settings.landing_dir.exists():
        shutil.rmtree(settings.landing_dir)
    summary = generate(_config(DAYS))
    assert {"late_delivery", "full_after_its_delta", "duplicate_resend"} <= {
        d.defect for d in summary.deliveries
    }
    # Arriving in the morning: wave 1 (the deltas, the fulls, the defects of day 5).
    write_all(summary, settings.landing_dir, tmp_path / "truth", waves=(1,))
    frontend_url = db.frontend_url(settings)
    with psycopg.connect(warehouse_url) as conn:
        publishes_before = _rows(conn, "ops.run_log where step = 'publish'")

    for day in range(1, DAYS + 1):
        # The tax front end as it stands that day (its deletes are SCBZ = 1 rows).
        write_frontend(frontend_url, generate(_config(day)).frontend_rows)
        if day == DAYS:
            _frontend_delete(frontend_url)
        assert _run(day) == 0, f"day {day}"
        if day == 2:
            assert (
                main(["steward", "merge", *_steward_merge(warehouse_url), "--reason", "same"]) == 0
            )
    # Arriving in the afternoon of day 5: the late delivery, the full after its delta, the
    # re-send; the second build of the day takes them.
    write_all(summary, settings.landing_dir, tmp_path / "truth", waves=(2,))
    assert _run(DAYS) == 0

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert _rows(conn, "ops.run_log where step = 'publish'") == publishes_before + DAYS + 1
        cases = conn.execute(
            """select
                 (select count(*) from raw.gat_czrk where _operation = 'D'),
                 (select count(*) from raw.swj_grnsr where _operation = 'D'),
                 (select count(*) from ops.delivery where out_of_order),
                 (select count(*) from ops.delivery where status = 'partially_quarantined'),
                 (select count(*) from resolve.steward_decision where withdrawn_at is null)"""
        ).fetchone()
        assert all(cases), cases  # every case the test is about really happened
        conn.execute(f"drop schema if exists {DAILY} cascade")
        conn.execute(f"create schema {DAILY}")
        for table in TABLES:
            conn.execute(f"create table {DAILY}.{table} as table mdm.{table}")
        for table in INTERMEDIATE:
            conn.execute(f"create table {DAILY}.{table} as table intermediate.{table}")

    # The same landing zone from nothing: ingestion, staging, observations and the
    # repositories rebuilt, with --full-refresh for every incremental model.
    reset_ingestion(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for schema in DBT_SCHEMAS:
            conn.execute(f"drop schema if exists {schema} cascade")
        conn.execute(f"drop table if exists {', '.join(f'mdm.{t}' for t in TABLES)} cascade")
    monkeypatch.setenv("DBT_FULL_REFRESH", "true")
    assert _run(DAYS) == 0


def test_daily_runs_publish_what_a_full_refresh_publishes(replayed, warehouse_url):
    assert published_differences(warehouse_url) == {}
    with psycopg.connect(warehouse_url) as conn:
        assert _rows(conn, "mdm.natural_person") > PERSONS // 2


def test_daily_certificate_expectations_and_checks_are_a_full_refreshs(replayed, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        for table in INTERMEDIATE:
            for left, right in ((DAILY, "intermediate"), ("intermediate", DAILY)):
                only = conn.execute(
                    f"select * from {left}.{table} except all "  # noqa: S608
                    f"select * from {right}.{table} limit 5"
                ).fetchall()
                assert only == [], (table, f"only in {left}", only)
        assert _rows(conn, f"{DAILY}.int_certificate_expected") > PERSONS // 2


def test_resolve_full_agrees_with_the_daily_resolution(replayed):
    assert main(["resolve", "run", "--full"]) == 0
