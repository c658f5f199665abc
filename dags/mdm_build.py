"""Build the natural-person and legal-person repositories from what ingestion loaded.

Scheduled on the raw tables' Assets (an ingestion DAG emits one only when a
delivery loaded rows) and daily at 08:00 as a fallback; one run at a time, so
the events of a morning's ingestion DAGs queue into one next run (docs/adr/0014).
Task ``check_new_data`` first waits for the loads in progress and looks for what
arrived since the last build that published (``ops.delivery``, steward
decisions); with nothing new it says so in the log and ``ops.run_log`` and the
build is skipped (param ``force`` builds anyway). Otherwise dbt builds staging
(current state of every source record, standardised) and the observations, entity
resolution gives every source record its persistent entity id, then dbt
builds survivorship, the repositories (``mdm.natural_person``,
``mdm.legal_person``), the cross references, the relations, their history and
the masked analyst views; finally new persons get their pseudonyms and expired
share grants are dropped (this step runs on a skipped day too). Every dbt test
and contract runs in the build; a failure stops the run before the next step.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import (
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    TriggerRule,
    dag,
    task,
)

from mdm.assets import mart_asset_uri, raw_asset_uri
from mdm.dag_policy import default_args, run_alerts
from mdm.registry import datasets
from mdm.settings import WAREHOUSE_CONN_ID

DEFAULT_ARGS = default_args("build", retries=1)
RAW_TABLES = [Asset(name=f"raw.{code}", uri=raw_asset_uri(code)) for code in datasets()]
REPOSITORIES = [
    Asset(name=f"mdm.{table}", uri=mart_asset_uri(table))
    for table in ("natural_person", "legal_person", "relation")
]


@dag(
    dag_id="mdm_build",
    # Whenever an ingestion DAG loaded rows, and at 08:00 in any case (a lost trigger must not
    # stop the build); check_new_data makes a run with nothing new cost seconds.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 8 * * *", timezone="Asia/Shanghai"),
        assets=AssetAny(*RAW_TABLES),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    **run_alerts("build"),
    tags=["mdm", "build", "resolve"],
    doc_md=__doc__,
    params={
        "force": Param(
            False,
            type="boolean",
            description="Build even when nothing arrived since the last build (after a change "
            "of code, rules or reference data).",
        )
    },
)
def mdm_build() -> None:
    # Only the next task is skipped by it; the others follow their trigger rules.
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def check_new_data(**context: Any) -> bool:
        from mdm import build
        from mdm.connections import params_from_airflow

        decision = build.check_new_data(
            params_from_airflow(WAREHOUSE_CONN_ID),
            str(context["run_id"]),
            force=bool(context["params"].get("force")),
        )
        return bool(decision["build"])

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

    # Also on a day without a build: expired share grants are dropped every day.
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def refresh_access(**context: object) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return build.refresh_access(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    (
        check_new_data()
        >> build_observations()
        >> resolve_entities()
        >> build_repositories()
        >> refresh_access()
    )


mdm_build()
