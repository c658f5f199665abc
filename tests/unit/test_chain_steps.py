"""Which failures of a chain run are the departments' and which are the platform's."""

from __future__ import annotations

import pytest

from mdm.orchestration import ChainStep, DagRunOutcome

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
