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
from mdm.connections import params_from_url
from mdm.registry import datasets
from mdm.report import summarise
from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

pytestmark = [pytest.mark.integration, pytest.mark.slow]


STATUS = {  # a generated delivery's expected outcome -> its ledger status
    "load": "loaded",
    "duplicate": "loaded",  # a re-send of a loaded delivery: the same ledger row
    "reject": "rejected",
    "quarantine_rows": "partially_quarantined",
}
# Resolution is measured against the truth elsewhere (mdm evaluate, the bench); here the
# published persons may differ from the truth's by this share (splits, over-merges, persons
# known by name alone).
PERSON_TOLERANCE = 0.02


def expected_ledger(summary, day: str) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    """The file deliveries extracted up to ``day`` (YYYYMMDD) and the status each must get;
    a delivery without its manifest is not one yet."""
    return {
        (d.dataset, d.delivery_id): STATUS[d.expected]
        for d in summary.deliveries
        if d.delivery_id[:8] <= day
        and d.expected != "ignore_incomplete"
        and d.dataset in datasets()  # the generator may be ahead of the registry
    }


def truth_persons(summary) -> int:  # type: ignore[no-untyped-def]
    return len({eid for kind, eid in summary.truth.records.values() if kind == "person"})


def ledger(conn: psycopg.Connection) -> dict[tuple[str, str], str]:
    return {
        (dataset, delivery_id): status
        for dataset, delivery_id, status in conn.execute(
            "select dataset, delivery_id, status from ops.delivery where channel = 'file'"
        )
    }


def test_two_days_through_mdm_run(settings, warehouse_url, airflow_metadata, capsys):
    reset_world(settings, warehouse_url)
    if settings.landing_dir.exists():
        shutil.rmtree(settings.landing_dir)
    summary = generate(GenerateConfig(persons=800, orgs=100, days=2, seed=61, defects=True))
    # Day 1 as the generator makes it (day d is the same whatever --days).
    day_one_truth = generate(GenerateConfig(persons=800, orgs=100, days=1, seed=61))
    with psycopg.connect(warehouse_url) as conn:
        publishes_before = conn.execute(
            "select count(*) from ops.run_log where step = 'publish'"
        ).fetchone()[0]
    write_all(summary, settings.landing_dir, settings.home / "truth")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    for report in settings.reports_dir.glob("*.html"):
        report.unlink()

    assert main(["run", "--date", "2026-11-01"]) == 0
    day_one = capsys.readouterr().out
    with psycopg.connect(warehouse_url) as conn:
        ledger_day_one = ledger(conn)
        persons_day_one = conn.execute("select count(*) from mdm.natural_person").fetchone()[0]
        stars_day_one = dict(
            conn.execute("select dataset, stars from quality.quality_dataset_scorecard")
        )
    assert ledger_day_one == expected_ledger(summary, "20261101")
    expected_persons = truth_persons(day_one_truth)
    assert abs(persons_day_one - expected_persons) <= PERSON_TOLERANCE * expected_persons, (
        persons_day_one,
        expected_persons,
    )
    assert "mdm_build" in day_one and "mdm_quality" in day_one

    assert main(["run", "--date", "2026-11-02"]) == 0  # rejected deliveries are reported only
    day_two = capsys.readouterr().out
    assert "deliveries need an engineer" in day_two and "mzt_shzz" in day_two
    with psycopg.connect(warehouse_url) as conn:
        ledger_day_two = ledger(conn)
        persons_day_two = conn.execute("select count(*) from mdm.natural_person").fetchone()[0]
        published_runs = conn.execute(
            "select count(*) from ops.run_log where step = 'publish'"
        ).fetchone()[0]
        stars = dict(conn.execute("select dataset, stars from quality.quality_dataset_scorecard"))
    # Every delivery of both days with the status its planted defect (or none) calls for:
    # the six rejections, the quarantined rows, the late delivery, the re-send.
    assert ledger_day_two == expected_ledger(summary, "20261102")
    assert sum(s == "rejected" for s in ledger_day_two.values()) == sum(
        d.expected == "reject" for d in summary.deliveries if d.dataset in datasets()
    )
    expected_persons = truth_persons(summary)
    assert abs(persons_day_two - expected_persons) <= PERSON_TOLERANCE * expected_persons, (
        persons_day_two,
        expected_persons,
    )
    assert published_runs == publishes_before + 2  # one publish per day
    assert stars["mzt_shzz"] < stars_day_one["mzt_shzz"]
    assert list(settings.reports_dir.glob("quality-*.html"))
    # What `mdm demo` prints of it (the report's queries where the report shows the same).
    shown = summarise(params_from_url(warehouse_url))
    rejected = sorted(key for key, status in ledger_day_two.items() if status == "rejected")
    assert sorted((r["dataset"], r["delivery_id"]) for r in shown["rejected"]) == rejected
    assert sum(r["rejected"] for r in shown["deliveries"]) == len(rejected)
    # every dataset of the registry, the nineteen of standard v2, delivered or not
    assert [r["dataset"] for r in shown["deliveries"]] == sorted(datasets())
    assert shown["totals"]["persons"] == persons_day_two
    assert shown["example_person"]["person_id"].startswith("P")
    assert shown["quarter"] and len(shown["departments"]) > 1
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
