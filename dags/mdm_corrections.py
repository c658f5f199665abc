"""The correction loop (issue 21, interface standard 6.1 and 4.19), after every publish.

Scheduled on the repositories' Assets (emitted by ``mdm_build`` when a build passed the publish
gate): dbt builds the problems the platform finds (``correction.correction_problems``: ID
numbers failing their check, disagreeing with their record or belonging to another person,
credit codes with a wrong check character, impossible dates, names contradicting the
register), then the departments' answers (``jcfk``) are applied, requests whose record a later
delivery corrected are confirmed, new problems become requests (a returning one reopens its
request), and what is not sent yet goes to the owning departments as 6.1's file drop in the
outbox. Logic: ``mdm.corrections``; every state change is in ``correction.request_event``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from mdm.assets import mart_asset_uri
from mdm.settings import WAREHOUSE_CONN_ID

DEFAULT_ARGS = {
    "owner": "mdm-platform",
    "retries": 1,
    "retry_delay": pendulum.duration(minutes=5),
}


@dag(
    dag_id="mdm_corrections",
    schedule=[Asset(name="mdm.natural_person", uri=mart_asset_uri("natural_person"))],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mdm", "quality", "report"],
    doc_md=__doc__,
)
def mdm_corrections() -> None:
    @task
    def correction_loop(**context: object) -> dict:
        from mdm import corrections
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return corrections.run_corrections(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    correction_loop()


mdm_corrections()
