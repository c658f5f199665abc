"""The platform-check DAG runs green under dag.test() against the real databases."""

from __future__ import annotations

import psycopg
import pytest

from mdm import platform_check
from mdm.connections import params_from_url
from mdm.orchestration import run_dag
from mdm.transform import std_function_names

pytestmark = pytest.mark.integration


def test_platform_check_dag_runs_green(settings, warehouse_url, airflow_metadata):
    outcome = run_dag(settings, "mdm_platform_check")
    assert outcome.state == "success"
    assert outcome.task_states == {
        "migrate_warehouse": "success",
        "check_frontend": "success",
        "build_models": "success",
    }
    with psycopg.connect(warehouse_url) as conn:
        steps = dict(
            conn.execute(
                "select step, status from staging.stg_ops__run_log where run_id = %s",
                (outcome.run_id,),
            ).fetchall()
        )
    assert steps == {
        "migrate_warehouse": "success",
        "check_frontend": "success",
        "build_models": "success",
    }
    # The standardisation rules are dbt's (ADR 0013): the platform check builds them.
    with psycopg.connect(warehouse_url) as conn:
        (detail,) = conn.execute(
            "select detail from ops.run_log where run_id = %s and step = 'build_models'",
            (outcome.run_id,),
        ).fetchone()
    assert {f"function.mdm.{name}" for name in std_function_names()} <= set(detail["nodes"])


def test_unreachable_frontend_is_reported_and_logged(warehouse_url):
    warehouse = params_from_url(warehouse_url)
    dead = {**warehouse, "port": "1", "dbname": "frontend"}
    with pytest.raises(platform_check.SourceUnavailableError, match="frontend_db"):
        platform_check.check_frontend(warehouse, dead, run_id="test-unreachable")
    with psycopg.connect(warehouse_url) as conn:
        status, detail = conn.execute(
            "select status, detail->>'error' from ops.run_log "
            "where run_id = 'test-unreachable' and step = 'check_frontend'"
        ).fetchone()
    assert status == "failed"
    assert "refused the connection" in detail
