"""Front-end pulls: GXSJ high-water mark, in-place updates, soft deletes, an unreachable source."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from mdm import db
from mdm.connections import params_from_url
from mdm.generate import GenerateConfig, generate, write_frontend
from mdm.ingest.errors import SourceUnavailableError
from mdm.ingest.frontend import pull_frontend
from mdm.orchestration import run_dag
from mdm.registry import dataset

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
