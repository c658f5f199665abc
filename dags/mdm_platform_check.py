"""Platform check: the warehouse is migrated, the front-end database answers, dbt builds.

Runs every morning before the ingestion DAGs, and is the first thing to
trigger on a new deployment. A failure names what is wrong (which database,
which dbt node) in the task log and in ``ops.run_log``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from mdm.dag_policy import default_args, run_alerts
from mdm.settings import FRONTEND_CONN_ID, WAREHOUSE_CONN_ID

DEFAULT_ARGS = default_args("platform", retries=2, retry_minutes=2)


@dag(
    dag_id="mdm_platform_check",
    schedule="0 5 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    **run_alerts("platform"),
    tags=["mdm", "platform"],
    doc_md=__doc__,
)
def mdm_platform_check() -> None:
    @task
    def migrate_warehouse(**context: object) -> list[str]:
        from mdm import platform_check
        from mdm.connections import params_from_airflow

        return platform_check.migrate_warehouse(
            params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    @task
    def check_frontend(**context: object) -> dict:
        from mdm import platform_check
        from mdm.connections import params_from_airflow

        return platform_check.check_frontend(
            params_from_airflow(WAREHOUSE_CONN_ID),
            params_from_airflow(FRONTEND_CONN_ID),
            str(context["run_id"]),
        )

    @task
    def build_models(**context: object) -> int:
        from mdm import platform_check
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return platform_check.build_models(
            load_settings(),
            params_from_airflow(WAREHOUSE_CONN_ID),
            str(context["run_id"]),
            select="staging.ops +resource_type:function",  # and the std rules (ADR 0013)
        )

    migrated = migrate_warehouse()
    migrated >> [check_frontend(), build_models()]


mdm_platform_check()
