"""Two days through `mdm run`, the command the scheduler's chain is made of.

Day 1 has clean deliveries; day 2 brings deltas and planted delivery defects. Rejected
deliveries do not fail the run (they are reported); the repositories are published after
each day, the scorecard rates the sources, and the report is written.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest
from ingest_support import reset_world

from mdm import db
from mdm.cli import main
from mdm.generate import GenerateConfig, generate, write_all, write_frontend

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_days_through_mdm_run(settings, warehouse_url, airflow_metadata, capsys):
    reset_world(settings, warehouse_url)
    if settings.landing_dir.exists():
        shutil.rmtree(settings.landing_dir)
    summary = generate(GenerateConfig(persons=800, orgs=80, days=2, seed=61, defects=True))
    write_all(summary, settings.landing_dir, settings.home / "truth")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    for report in settings.reports_dir.glob("*.html"):
        report.unlink()

    assert main(["run", "--date", "2026-11-01"]) == 0
    day_one = capsys.readouterr().out
    with psycopg.connect(warehouse_url) as conn:
        ids = [
            r[0]
            for r in conn.execute("select delivery_id from ops.delivery where channel = 'file'")
        ]
        persons_day_one = conn.execute("select count(*) from mdm.natural_person").fetchone()[0]
        stars_day_one = dict(
            conn.execute("select dataset, stars from quality.quality_dataset_scorecard")
        )
    assert ids and all(i[:8] <= "20261101" for i in ids)
    assert persons_day_one > 700
    assert "mdm_build" in day_one and "mdm_quality" in day_one

    assert main(["run", "--date", "2026-11-02"]) == 0  # rejected deliveries are reported only
    day_two = capsys.readouterr().out
    assert "deliveries need an engineer" in day_two and "mzt_shzz" in day_two
    with psycopg.connect(warehouse_url) as conn:
        rejected = conn.execute(
            "select count(*) from ops.delivery where status = 'rejected'"
        ).fetchone()[0]
        persons_day_two = conn.execute("select count(*) from mdm.natural_person").fetchone()[0]
        published_runs = conn.execute(
            "select count(*) from ops.run_log where step = 'publish'"
        ).fetchone()[0]
        stars = dict(conn.execute("select dataset, stars from quality.quality_dataset_scorecard"))
    assert rejected >= 5
    assert persons_day_two >= persons_day_one
    assert published_runs >= 2
    assert stars["mzt_shzz"] < stars_day_one["mzt_shzz"]
    assert list(settings.reports_dir.glob("quality-*.html"))
    # What the Airflow UI shows of the build: every dbt node with its status in the task's
    # XCom, and the rows published on the repository Assets' events.
    with psycopg.connect(db.airflow_url(settings)) as conn:
        xcom = conn.execute(
            "select value from xcom where dag_id = 'mdm_build' "
            "and task_id = 'build_repositories' and key = 'return_value' "
            "order by timestamp desc limit 1"
        ).fetchone()
        event = conn.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id "
            "where a.name = 'mdm.natural_person' order by e.timestamp desc limit 1"
        ).fetchone()
    assert xcom is not None and event is not None
    nodes = {n["node"]: n["status"] for n in xcom[0]["nodes"]}
    assert nodes["model.mdm.natural_person"] == "success"
    assert event[0]["rows_published"] == persons_day_two
