"""公共数据开放: the open resources of interface standard 6.2, after each publish.

Scheduled on the natural-person repository's Asset (emitted by ``mdm_build`` when a build
passed the publish gate): the catalogue is loaded, dbt builds the open resources from what is
published (``dbt_project/models/open``), and ``mdm.opendata`` checks them against the
catalogue, suppresses small statistical cells, scans for identifiers and writes the
versioned publication to ``$MDM_HOME/open/<version>/`` and schema ``open`` (docs/adr/0023).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from mdm.assets import after_publish
from mdm.settings import WAREHOUSE_CONN_ID


@dag(**after_publish("mdm_open", ["mdm", "report"], __doc__))
def mdm_open() -> None:
    @task
    def publish_open(**context: object) -> dict:
        from mdm.connections import params_from_airflow
        from mdm.opendata.publish import build_open
        from mdm.settings import load_settings

        return build_open(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    publish_open()


mdm_open()
