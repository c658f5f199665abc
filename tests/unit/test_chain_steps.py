"""Which failures of a chain run are the departments' and which are the platform's."""

from __future__ import annotations

import pytest

from mdm.orchestration import ChainStep, DagRunOutcome, dag_conf

pytestmark = pytest.mark.unit


def _step(dag_id: str, states: dict[str, str] | None, failed: bool = True) -> ChainStep:
    outcome = None if states is None else DagRunOutcome(dag_id, "run", "failed", states)
    return ChainStep(dag_id, outcome, 1.0, "ended failed" if failed else None)


def test_a_rejected_delivery_fails_only_the_check_and_is_the_departments_problem():
    step = _step("mdm_ingest_mzt_shzz", {"ingest": "success", "check_deliveries": "failed"})
    assert step.failed and not step.unexpected


def test_ingestion_itself_failing_or_any_other_dag_failing_is_unexpected():
    assert _step("mdm_ingest_gat_czrk", {"ingest": "failed"}).unexpected
    assert _step("mdm_build", {"resolve_entities": "failed"}).unexpected
    assert _step("mdm_ingest_gat_czrk", None).unexpected  # could not run at all


def test_a_successful_step_is_neither():
    step = _step("mdm_build", {"resolve_entities": "success"}, failed=False)
    assert not step.failed and not step.unexpected


@pytest.mark.parametrize(
    ("dag_id", "until", "force", "conf"),
    [
        ("mdm_ingest_gat_czrk", "2026-11-02", False, {"until": "20261102"}),
        ("mdm_ingest_gat_czrk", None, True, None),  # force is the build's, not ingestion's
        ("mdm_build", "2026-11-02", False, None),
        ("mdm_build", None, True, {"force": True}),
        ("mdm_quality", None, True, None),
    ],
)
def test_each_dag_of_the_chain_gets_only_its_own_conf(dag_id, until, force, conf):
    assert dag_conf(dag_id, until, force) == conf
