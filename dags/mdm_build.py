"""Build the natural-person and legal-person repositories from what ingestion loaded.

Scheduled on the raw tables' Assets (any ingestion DAG that loaded something
triggers it) and daily at 08:00 as a fallback: dbt builds staging (current
state of every source record, standardised) and the observations, entity
resolution gives every source record its persistent entity id, then dbt
builds survivorship, the repositories (``mdm.natural_person``,
``mdm.legal_person``), the cross references, the relations, their history and
the masked analyst views; finally new persons get their pseudonyms and expired
share grants are dropped. Every dbt test and contract runs in the build; a
failure stops the run before the next step.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from mdm.assets import mart_asset_uri, raw_asset_uri
from mdm.registry import datasets
from mdm.settings import WAREHOUSE_CONN_ID

DEFAULT_ARGS = {
    "owner": "mdm-platform",
    "retries": 1,
    "retry_delay": pendulum.duration(minutes=5),
}
RAW_TABLES = [Asset(name=f"raw.{code}", uri=raw_asset_uri(code)) for code in datasets()]
REPOSITORIES = [
    Asset(name=f"mdm.{table}", uri=mart_asset_uri(table))
    for table in ("natural_person", "legal_person", "relation")
]


@dag(
    dag_id="mdm_build",
    # Whenever an ingestion DAG loaded something, and at 08:00 in any case (a day on which
    # nothing arrived still ages the data, and a stuck trigger must not stop the build).
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 8 * * *", timezone="Asia/Shanghai"),
        assets=AssetAny(*RAW_TABLES),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mdm", "build", "resolve"],
    doc_md=__doc__,
)
def mdm_build() -> None:
    @task
    def build_observations(**context: object) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return build.build_observations(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    @task
    def resolve_entities(**context: object) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow

        return build.resolve_entities(
            params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    @task(outlets=REPOSITORIES)
    def build_repositories(**context: Any) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        detail = build.build_repositories(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )
        # The asset events carry what was published, for the Assets view and downstream DAGs.
        for asset in REPOSITORIES:
            table = asset.name.removeprefix("mdm.")
            context["outlet_events"][asset].extra = {
                "rows_published": detail.get("published", {}).get(table),
                "run_id": str(context["run_id"]),
            }
        return detail

    @task
    def refresh_access(**context: object) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return build.refresh_access(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    build_observations() >> resolve_entities() >> build_repositories() >> refresh_access()


mdm_build()
