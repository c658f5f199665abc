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

from airflow.sdk import dag, task

from mdm.assets import after_publish
from mdm.settings import WAREHOUSE_CONN_ID


@dag(**after_publish("mdm_corrections", ["mdm", "quality", "report"], __doc__))
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
