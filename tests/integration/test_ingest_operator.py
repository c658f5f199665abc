"""The operator's ways out of a rejected delta (README "Ingestion" and "The mdm command"):
the ingestion DAG's param ``skip`` and ``mdm ingest --skip``, and the exit codes of
``mdm ingest`` (0 when everything loaded, 1 when a delivery was rejected or is blocked)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mdm.cli import main as mdm_main
from mdm.registry import dataset
from mdm_tools.generate import GenerateConfig, GenerateSummary, generate
from mdm_tools.generate.deliver import write_delivery

pytestmark = pytest.mark.integration

REJECTED = "20261102-01"


@pytest.fixture(scope="module")
def three_days() -> GenerateSummary:
    return generate(GenerateConfig(persons=400, orgs=50, days=3, seed=5))


@pytest.fixture
def rejected_day_two(three_days, settings, clean_ingestion) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """gat_czrk's three days in the session's landing zone, day 2 rejected (bad checksum)."""
    landing = settings.landing_dir
    if landing.exists():
        shutil.rmtree(landing)
    for delivery in three_days.deliveries:
        if delivery.dataset == "gat_czrk":
            write_delivery(landing, delivery, dataset("gat_czrk").provider)
    day2 = landing / "gat_czrk" / REJECTED / "part-all.csv"
    day2.write_bytes(day2.read_bytes() + b"tampered")
    yield landing
    shutil.rmtree(landing, ignore_errors=True)


def _statuses(warehouse_url: str) -> dict[str, str]:
    with psycopg.connect(warehouse_url) as conn:
        return dict(
            conn.execute(
                "select delivery_id, status from ops.delivery where dataset = 'gat_czrk'"
            ).fetchall()
        )


def test_dag_param_skip_unblocks_the_deltas_after_a_rejected_one(
    rejected_day_two, settings, warehouse_url, airflow_metadata
):
    from mdm.orchestration import DagRunFailedError, run_dag

    with pytest.raises(DagRunFailedError, match="check_deliveries"):
        run_dag(settings, "mdm_ingest_gat_czrk")
    assert _statuses(warehouse_url) == {
        "20261101-01": "loaded",
        REJECTED: "rejected",
        "20261103-01": "blocked",
    }

    outcome = run_dag(settings, "mdm_ingest_gat_czrk", conf={"skip": [REJECTED]})
    assert outcome.state == "success"
    assert _statuses(warehouse_url) == {
        "20261101-01": "loaded",
        REJECTED: "skipped",
        "20261103-01": "loaded",
    }
    with psycopg.connect(warehouse_url) as conn:
        skips = conn.execute(
            "select delivery_id, run_id from ops.delivery_event where event = 'skipped'"
        ).fetchall()
        in_raw = conn.execute(
            "select count(*) from raw.gat_czrk where _delivery_id = %s", (REJECTED,)
        ).fetchone()
    assert skips == [(REJECTED, outcome.run_id)]
    assert in_raw == (0,)


def test_mdm_ingest_exits_1_while_rejected_or_blocked_and_skip_unblocks(
    rejected_day_two, warehouse_url, capsys
):
    assert mdm_main(["ingest", "--dataset", "gat_czrk"]) == 1
    out = capsys.readouterr().out
    assert "rejected" in out and "blocked" in out and "Needs an engineer" in out
    # Still blocked on the next run: still exit code 1.
    assert mdm_main(["ingest", "--dataset", "gat_czrk"]) == 1
    assert _statuses(warehouse_url)["20261103-01"] == "blocked"
    capsys.readouterr()

    assert mdm_main(["ingest", "--dataset", "gat_czrk", "--skip", REJECTED]) == 0
    out = capsys.readouterr().out
    assert "20261103-01" in out and "Needs an engineer" not in out
    assert _statuses(warehouse_url) == {
        "20261101-01": "loaded",
        REJECTED: "skipped",
        "20261103-01": "loaded",
    }
    # Nothing new: exit code 0, same state.
    assert mdm_main(["ingest", "--dataset", "gat_czrk"]) == 0
    assert _statuses(warehouse_url)[REJECTED] == "skipped"
    # The DATASET/ID form of --skip is needed when several datasets are ingested.
    assert (
        mdm_main(["ingest", "--dataset", "gat_czrk", "--dataset", "mzt_hydj", "--skip", "x"]) == 2
    )
