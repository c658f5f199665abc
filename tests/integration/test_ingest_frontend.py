"""Front-end pulls: GXSJ high-water mark, in-place updates, soft deletes, an unreachable source."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from ingest_support import current_rows
from psycopg.rows import dict_row

from mdm import db
from mdm.cli import main
from mdm.connections import params_from_url
from mdm.ingest import raw_tables
from mdm.ingest.errors import SourceUnavailableError
from mdm.ingest.frontend import pull_frontend
from mdm.orchestration import run_dag
from mdm.registry import dataset
from mdm_tools.generate import GenerateConfig, generate, write_frontend

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def test_pulls_take_only_rows_above_the_mark(settings, warehouse_url, clean_ingestion):
    frontend_url = db.frontend_url(settings)
    write_frontend(frontend_url, generate(GenerateConfig(persons=800, orgs=90)).frontend_rows)
    warehouse, frontend = params_from_url(warehouse_url), params_from_url(frontend_url)
    spec = dataset("swj_grnsr")
    with psycopg.connect(frontend_url) as conn:
        source_rows, source_max = conn.execute(
            "select count(*), max(gxsj) from public.swj_grnsr"
        ).fetchone()

    first = pull_frontend(warehouse, frontend, spec, "p1", now=T0)
    assert first.status == "loaded" and first.rows_loaded == source_rows > 50
    assert pull_frontend(warehouse, frontend, spec, "p2", now=T0 + dt.timedelta(hours=1)) is None

    # The department updates two rows in place and soft-deletes one.
    later = source_max + dt.timedelta(minutes=5)
    with psycopg.connect(frontend_url) as conn:
        keys = [
            r[0] for r in conn.execute("select djxh from public.swj_grnsr order by djxh limit 3")
        ]
        conn.execute(
            "update public.swj_grnsr set lxdh = '13800000000', gxsj = %s where djxh = any(%s)",
            (later, keys[:2]),
        )
        conn.execute(
            "update public.swj_grnsr set scbz = '1', gxsj = %s where djxh = %s", (later, keys[2])
        )
    second = pull_frontend(warehouse, frontend, spec, "p3", now=T0 + dt.timedelta(hours=2))
    assert second.rows_loaded == 3
    with psycopg.connect(warehouse_url) as conn:
        pulled = conn.execute(
            "select djxh, lxdh, _operation, gxsj from raw.swj_grnsr where _delivery_id = %s "
            "order by djxh",
            (second.delivery_id,),
        ).fetchall()
        mark = conn.execute(
            "select high_water_mark, delivery_id from ops.frontend_watermark "
            "where dataset = 'swj_grnsr'"
        ).fetchone()
    assert [(r[0], r[2]) for r in pulled] == [(keys[0], "U"), (keys[1], "U"), (keys[2], "D")]
    assert pulled[0][1] == "13800000000"
    assert pulled[0][3] == later.strftime("%Y-%m-%d %H:%M:%S")  # the standard's text form
    assert mark == (later, second.delivery_id)


def test_an_unreachable_frontend_is_an_availability_failure(
    settings, warehouse_url, clean_ingestion
):
    warehouse = params_from_url(warehouse_url)
    dead = {**params_from_url(db.frontend_url(settings)), "port": "1"}
    with pytest.raises(SourceUnavailableError, match="frontend_db"):
        pull_frontend(warehouse, dead, dataset("swj_dwnsr"), "dead", now=T0)
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select status, error_code, error from ops.delivery where dataset = 'swj_dwnsr'"
        ).fetchall()
        marks = conn.execute("select count(*) from ops.frontend_watermark").fetchone()[0]
    assert [(r[0], r[1]) for r in rows] == [("unavailable", "source_unavailable")]
    assert "refused the connection" in rows[0][2] and marks == 0


def test_ingestion_dags_run_under_airflow(
    settings, warehouse_url, airflow_metadata, clean_ingestion
):
    write_frontend(
        db.frontend_url(settings), generate(GenerateConfig(persons=500, orgs=60)).frontend_rows
    )
    outcome = run_dag(settings, "mdm_ingest_swj_dwnsr")
    assert outcome.task_states == {
        "ingest": "success",
        "profile": "success",
        "check_deliveries": "success",
        "announce": "success",  # the pull loaded rows: raw.swj_dwnsr's event
    }
    with psycopg.connect(warehouse_url) as conn:
        status, run_id, rows = conn.execute(
            "select status, run_id, rows_loaded from ops.delivery where dataset = 'swj_dwnsr'"
        ).fetchone()
        suites = conn.execute(
            "select suite_name from ops.validation_result where dataset = 'swj_dwnsr' order by 1"
        ).fetchall()
    assert status == "loaded" and run_id == outcome.run_id and rows > 0
    assert suites == [("raw.swj_dwnsr.pull.gate",), ("raw.swj_dwnsr.pull.profile",)]

    # Param reconcile: a record deleted outright arrives as a delete in the same run.
    with psycopg.connect(db.frontend_url(settings)) as conn:
        (gone,) = conn.execute(
            "delete from public.swj_dwnsr where djxh = (select min(djxh) from public.swj_dwnsr) "
            "returning djxh"
        ).fetchone()
    run_dag(settings, "mdm_ingest_swj_dwnsr", conf={"reconcile": True})
    with psycopg.connect(warehouse_url) as conn:
        deletes = conn.execute(
            "select r.djxh, d.reconciled, d.rows_vanished from raw.swj_dwnsr r "
            "join ops.delivery d on d.dataset = 'swj_dwnsr' and d.delivery_id = r._delivery_id "
            "where r._operation = 'D' and r._file like '%/vanished'"
        ).fetchall()
    assert deletes == [(gone, True, 1)]


# --- Pulls that lose nothing (issue 16) ---------------------------------------------------

BASE = dt.datetime(2026, 11, 20, 9, 0)  # noqa: DTZ001 - GXSJ: Beijing time, no zone
COLUMNS = [c.name.lower() for c in dataset("swj_grnsr").columns]


def _person(djxh: str, gxsj: dt.datetime | None, **values: object) -> dict[str, object]:
    return {
        "djxh": djxh,
        "xm": f"韦{djxh}",
        "sfzjlx": "201",
        "sfzjhm": "450102198001011237",
        "xb": "男",
        "csrq": dt.date(1980, 1, 1),
        "lxdh": "13800000000",
        "jzdz": "南宁市青秀区民族大道1号",
        "djrq": dt.date(2020, 1, 1),
        "gxsj": gxsj,
        "scbz": "0",
    } | values


def _insert(conn: psycopg.Connection, row: dict[str, object]) -> None:
    conn.execute(
        f"insert into public.swj_grnsr ({', '.join(COLUMNS)}) "  # noqa: S608 - our columns
        f"values ({', '.join(['%s'] * len(COLUMNS))})",
        [row[c] for c in COLUMNS],
    )


@pytest.fixture
def small_source(settings, warehouse_url, clean_ingestion):  # type: ignore[no-untyped-def]
    """Five taxpayers D0..D4 stamped a minute apart; yields (frontend url, pull function)."""
    frontend_url = db.frontend_url(settings)
    write_frontend(
        frontend_url,
        {"swj_grnsr": [_person(f"D{i}", BASE + dt.timedelta(minutes=i)) for i in range(5)]},
    )
    warehouse, frontend = params_from_url(warehouse_url), params_from_url(frontend_url)
    pulls = iter(range(1, 100))

    def pull(hours: float | None = None, **kwargs: object) -> object:
        """A pull at T0 + ``hours`` (default: one hour after the previous one)."""
        n = next(pulls)
        now = T0 + dt.timedelta(hours=n if hours is None else hours)
        return pull_frontend(warehouse, frontend, dataset("swj_grnsr"), f"p{n}", now, **kwargs)

    yield frontend_url, pull
    with psycopg.connect(frontend_url, autocommit=True) as conn:  # later tests expect none
        conn.execute("drop table public.swj_grnsr")


def _current(warehouse_url: str) -> dict[str, tuple[str | None, str, str]]:
    return current_rows(warehouse_url, "swj_grnsr")


def _ledger(warehouse_url: str, delivery_id: str) -> dict[str, object]:
    with psycopg.connect(warehouse_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "select * from ops.delivery where dataset = 'swj_grnsr' and delivery_id = %s",
            (delivery_id,),
        ).fetchone()
    assert row is not None
    return row


def test_a_row_committed_after_a_pull_below_its_mark_arrives_next_pull(warehouse_url, small_source):
    frontend_url, pull = small_source
    assert pull().rows_loaded == 5
    # Session A stamps its row and keeps its transaction open across the next pull ...
    late = psycopg.connect(frontend_url)
    try:
        _insert(late, _person("LATE", BASE + dt.timedelta(minutes=10)))
        # ... while session B commits a row stamped later.
        with psycopg.connect(frontend_url) as other:
            _insert(other, _person("EARLY", BASE + dt.timedelta(minutes=12)))
        second = pull()
        assert second.rows_loaded == 1
        late.commit()  # committed after the pull, GXSJ below the pull's mark
    finally:
        late.close()
    third = pull()
    assert third is not None and third.rows_loaded == 1
    current = _current(warehouse_url)
    assert current["LATE"][1] == "U" and sorted(current) == ["D0", "D1", "D2", "D3", "D4"] + [
        "EARLY",
        "LATE",
    ]
    # The overlap re-read D3, D4 and EARLY: counted apart, not stored again, declared = loaded.
    ledger_row = _ledger(warehouse_url, third.delivery_id)
    assert (ledger_row["rows_declared"], ledger_row["rows_loaded"]) == (1, 1)
    assert ledger_row["rows_unchanged"] == 3
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.swj_grnsr").fetchone()[0] == 7
    assert pull() is None  # a rerun stores nothing


def test_reconciliation_turns_hard_deletes_into_deletes_and_finds_missed_rows(
    warehouse_url, small_source
):
    frontend_url, pull = small_source
    pull()
    with psycopg.connect(frontend_url) as conn:
        conn.execute("delete from public.swj_grnsr where djxh = 'D1'")  # a hard delete
        _insert(conn, _person("OLD", BASE - dt.timedelta(days=1)))  # far below the mark
    assert pull(reconcile=False) is None  # an incremental pull cannot see either

    # mdm ingest --reconcile (the CLI runs the same code as the DAG)
    assert main(["ingest", "--dataset", "swj_grnsr", "--reconcile"]) == 0
    current = _current(warehouse_url)
    assert current["D1"][1] == "D" and current["D1"][2].endswith("/vanished")
    assert current["OLD"][1] == "U" and current["OLD"][2].endswith("/missed")
    with psycopg.connect(warehouse_url) as conn:
        delivery_id, reconciled, vanished, loaded = conn.execute(
            "select delivery_id, reconciled, rows_vanished, rows_loaded from ops.delivery "
            "where dataset = 'swj_grnsr' order by delivery_id desc limit 1"
        ).fetchone()
    assert (reconciled, vanished, loaded) == (True, 1, 2)

    # The DAG's cadence: a day after the last reconciliation, the next pull reconciles.
    with psycopg.connect(frontend_url) as conn:
        conn.execute("delete from public.swj_grnsr where djxh = 'D2'")
    assert pull() is None  # not due yet
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "update ops.frontend_watermark set reconciled_at = now() - interval '25 hours'"
        )
    due = pull()
    assert due is not None and due.rows_loaded == 1
    assert _current(warehouse_url)["D2"][1] == "D"
    assert pull(reconcile=True) is None  # a rerun: nothing vanishes twice
    with psycopg.connect(warehouse_url) as conn:
        events = conn.execute(
            "select count(*) from ops.delivery_event where dataset = 'swj_grnsr' "
            "and event = 'reconciled'"
        ).fetchone()[0]
        raw_rows = conn.execute("select count(*) from raw.swj_grnsr").fetchone()[0]
    assert events == 4  # first pull, CLI, cadence, rerun
    assert raw_rows == 5 + 2 + 1
    # Without a mark (an operator reset it) a pull reads the whole table: deletes still found.
    with psycopg.connect(frontend_url) as conn:
        conn.execute("delete from public.swj_grnsr where djxh = 'D3'")
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("delete from ops.frontend_watermark")
    assert pull().rows_loaded == 1
    assert _current(warehouse_url)["D3"][1] == "D"


def test_a_row_stamped_in_the_future_does_not_hide_later_rows(warehouse_url, small_source):
    frontend_url, pull = small_source
    pull()
    clock = "(now() at time zone 'Asia/Shanghai')::timestamp"
    with psycopg.connect(frontend_url) as conn:
        future = conn.execute(f"select {clock} + interval '1 day'").fetchone()[0]  # noqa: S608
        _insert(conn, _person("FUTURE", future))
    second = pull()
    assert second.rows_loaded == 1
    ledger_row = _ledger(warehouse_url, second.delivery_id)
    assert ledger_row["rows_future_gxsj"] == 1
    assert "stamped after the source database's clock" in ledger_row["warning"]
    with psycopg.connect(warehouse_url) as conn:
        mark = conn.execute("select high_water_mark from ops.frontend_watermark").fetchone()[0]
        warned = conn.execute(
            "select detail ->> 'rows_future_gxsj' from ops.delivery_event "
            "where delivery_id = %s and event = 'warning'",
            (second.delivery_id,),
        ).fetchone()
    assert mark < future - dt.timedelta(hours=23) and warned == ("1",)
    with psycopg.connect(frontend_url) as conn:  # stamped now, before the future row
        now = conn.execute(f"select {clock}").fetchone()[0]  # noqa: S608
        _insert(conn, _person("NOW", now))
    third = pull()
    assert third is not None and third.rows_loaded == 1  # the future row is not stored again
    assert _current(warehouse_url)["NOW"][1] == "U"


def test_rows_without_gxsj_are_loaded_and_counted(warehouse_url, small_source):
    frontend_url, pull = small_source
    pull()
    with psycopg.connect(frontend_url) as conn:
        _insert(conn, _person("NOSTAMP", None))
    second = pull()
    assert second is not None and second.status == "loaded" and second.rows_loaded == 1
    ledger_row = _ledger(warehouse_url, second.delivery_id)
    assert ledger_row["rows_null_gxsj"] == 1 and "without GXSJ" in ledger_row["warning"]
    assert pull() is None  # read again, unchanged: not stored again
    with psycopg.connect(frontend_url) as conn:
        conn.execute("update public.swj_grnsr set lxdh = '13900000000' where djxh = 'NOSTAMP'")
    assert pull().rows_loaded == 1  # a change without a stamp still arrives
    with psycopg.connect(warehouse_url) as conn:
        phones = conn.execute(
            "select lxdh from raw.swj_grnsr where djxh = 'NOSTAMP' order by _delivery_id"
        ).fetchall()
    assert phones == [("13800000000",), ("13900000000",)]


def test_two_pulls_in_the_same_second_keep_both_partitions(warehouse_url, small_source):
    frontend_url, pull = small_source
    first = pull(hours=0)
    with psycopg.connect(frontend_url) as conn:
        _insert(conn, _person("D5", BASE + dt.timedelta(minutes=30)))
    second = pull(hours=0)  # the same second
    with psycopg.connect(frontend_url) as conn:
        _insert(conn, _person("D6", BASE + dt.timedelta(minutes=31)))
    third = pull(hours=-24)  # a worker whose clock is a day behind
    ids = [first.delivery_id, second.delivery_id, third.delivery_id]
    assert ids == sorted(set(ids)) and all(o.status == "loaded" for o in (first, second, third))
    with psycopg.connect(warehouse_url) as conn:
        per_pull = conn.execute(
            "select _delivery_id, count(*) from raw.swj_grnsr group by 1 order by 1"
        ).fetchall()
    assert per_pull == [(ids[0], 5), (ids[1], 1), (ids[2], 1)]
    # An attached partition is never dropped or replaced, whoever asks.
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        with pytest.raises(RuntimeError, match="already attached"):
            raw_tables.create_batch_table(conn, dataset("swj_grnsr"), ids[0])
        assert conn.execute("select count(*) from raw.swj_grnsr").fetchone()[0] == 7
