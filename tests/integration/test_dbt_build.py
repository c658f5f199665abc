"""dbt builds the project against the real warehouse, and failures name the node."""

from __future__ import annotations

import psycopg
import pytest

from mdm.connections import params_from_url
from mdm.transform import DbtBuildError, run_dbt

pytestmark = pytest.mark.integration


def test_dbt_build_creates_staging_view(settings, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into ops.run_log (run_id, step, status, finished_at, rows_affected) "
            "values ('test-dbt', 'probe', 'success', now() + interval '2 seconds', 7) "
            "on conflict (run_id, step) do nothing"
        )
    nodes = run_dbt(settings, params_from_url(warehouse_url), ["build", "--select", "staging.ops"])
    ids = {n.unique_id for n in nodes}
    assert "model.mdm.stg_ops__run_log" in ids
    assert any(i.startswith("test.mdm.unique_stg_ops__run_log") for i in ids)
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(
            "select run_step_key, rows_affected, duration_seconds > 1 "
            "from staging.stg_ops__run_log where run_id = 'test-dbt'"
        ).fetchone()
    assert row == ("test-dbt/probe", 7, True)


def test_dbt_failure_names_the_failing_node(settings, warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("alter table ops.run_log rename to run_log_hidden")
    try:
        with pytest.raises(DbtBuildError, match="stg_ops__run_log|source_not_null_ops_run_log"):
            run_dbt(settings, params_from_url(warehouse_url), ["build", "--select", "staging.ops"])
    finally:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("alter table ops.run_log_hidden rename to run_log")
