"""What the operator sees of a run (issue 24): the ``mdm`` command's progress lines without
Airflow's log lines, the log file, ``--json``, exit codes, and the mail of a failed DAG run."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import run_mdm
from smtp_sink import smtp_sink

from mdm.registry import dataset
from mdm_tools.generate import GenerateConfig, generate
from mdm_tools.generate.deliver import write_delivery

pytestmark = pytest.mark.integration

REJECTED = "20261102-01"
# Lines that only Airflow's or dbt's logging prints (structlog levels, the DAG bag, tasks).
AIRFLOW_LOG = re.compile(r"\[(info|debug|warning|error)\s*\]|Filling up the DagBag|dagbag\.py|"
                         r"taskinstance|Task instance|Marking task as", re.IGNORECASE)  # fmt: skip


@pytest.fixture
def rejected_day_two(settings, airflow_metadata, warehouse_url) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """gat_czrk's day 1 and a day 2 whose file does not match its checksum (rejected)."""
    from ingest_support import reset_ingestion

    reset_ingestion(warehouse_url)
    landing = settings.landing_dir
    shutil.rmtree(landing, ignore_errors=True)
    world = generate(GenerateConfig(persons=200, orgs=30, days=2, seed=7))
    for delivery in world.deliveries:
        if delivery.dataset == "gat_czrk":
            write_delivery(landing, delivery, dataset("gat_czrk").provider)
    day2 = landing / "gat_czrk" / REJECTED / "part-all.csv"
    day2.write_bytes(day2.read_bytes() + b"tampered")
    yield landing
    shutil.rmtree(landing, ignore_errors=True)
    reset_ingestion(warehouse_url)


def _env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "MDM_ALERT_TO": "ops@example.org",
        "MDM_ALERT_SMTP": f"127.0.0.1:{port}",
    }


def test_a_run_shows_its_dags_and_tasks_and_mails_the_failure(rejected_day_two, settings):
    with smtp_sink() as (port, received):
        done = run_mdm("run", "--dag", "mdm_ingest_gat_czrk", env=_env(port))
    assert done.returncode == 0, done.stderr  # a rejected delivery is the department's problem
    lines = done.stdout.splitlines()
    assert lines[0].startswith("logs: ") and str(settings.home / "logs") in lines[0]
    assert re.match(r"✗ mdm_ingest_gat_czrk +failed +\d+\.\ds", lines[1]), lines
    tasks = {line.split()[0]: line.split()[1] for line in lines[2:] if line.startswith("    ")}
    assert tasks["ingest"] == "success" and tasks["check_deliveries"] == "failed"
    assert "deliveries need an engineer" in done.stdout and "gat_czrk" in lines[-1]
    assert len(lines) < 15, lines
    # Airflow's log lines are in the log file, not here.
    assert not [line for line in lines + done.stderr.splitlines() if AIRFLOW_LOG.search(line)]
    log = Path(lines[0].removeprefix("logs: ").split(" (")[0]).read_text()
    assert AIRFLOW_LOG.search(log) and "check_deliveries" in log
    # The DAG run's failure was mailed (on_failure_callback, mdm.dag_policy.MailOnFailure).
    [(envelope, message)] = [m for m in received if "failed" in m[1]["Subject"]]
    assert envelope["to"] == ["ops@example.org"]
    assert message["Subject"] == "[mdm] mdm_ingest_gat_czrk failed"
    assert "check_deliveries" in message.get_content()


def test_run_and_ingest_as_json(rejected_day_two):
    done = run_mdm("run", "--dag", "mdm_ingest_gat_czrk", "--json", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # stdout holds the JSON alone
    [dag] = document["dags"]
    assert dag["dag_id"] == "mdm_ingest_gat_czrk" and dag["state"] == "failed"
    tasks = {t["task_id"]: t["state"] for t in dag["tasks"]}
    assert tasks == {
        "ingest": "success",
        "profile": "success",
        "check_deliveries": "failed",
        "announce": "success",
    }
    assert all(t["seconds"] is not None for t in dag["tasks"])
    assert document["delivery_problems"] == ["gat_czrk"] and document["unexpected"] == []
    assert "mdm_ingest_gat_czrk" in done.stderr  # the progress lines went to stderr

    # A third delivery, a delta behind the rejected one: blocked, exit code 1 (data).
    from ingest_support import deliver

    day_two = (rejected_day_two / "gat_czrk" / REJECTED / "part-all.csv").read_bytes()
    deliver(rejected_day_two, "gat_czrk", "20261103-01", {"part-all.csv": day_two},
            mode="delta", rows={"part-all.csv": 99_999})  # fmt: skip
    ingest = run_mdm("ingest", "--dataset", "gat_czrk", "--json", env=dict(os.environ))
    assert ingest.returncode == 1, ingest.stderr
    document = json.loads(ingest.stdout)
    statuses = {d["delivery_id"]: d["status"] for d in document["deliveries"]}
    assert statuses["20261103-01"] == "blocked" and document["problems"]  # behind day 2
