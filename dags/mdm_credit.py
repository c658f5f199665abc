"""信易贷: the enterprise credit profile and its evaluation, and the monthly push.

Scheduled on the legal-person repository's Asset (emitted by ``mdm_build`` when a build
passed the publish gate): dbt builds schema ``credit`` (the profile with each fact's source
and as-of date, the sources' freshness, the rule-based score and grade) from what is
published, and every registered bank's filtered view is made again (banks read
``share.<bank>__credit_profile``: docs/adr/0019). Then, once a month, the month's
evaluations are pushed to the financing-service platform: ``credit.monthly_result`` and a
file in the outbox (param ``force_push`` pushes the month again).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, task

from mdm.assets import mart_asset_uri
from mdm.dag_policy import default_args, run_alerts
from mdm.settings import WAREHOUSE_CONN_ID

DEFAULT_ARGS = default_args("after_publish", retries=1)


@dag(
    dag_id="mdm_credit",
    schedule=[Asset(name="mdm.legal_person", uri=mart_asset_uri("legal_person"))],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    **run_alerts("after_publish"),
    params={
        "force_push": Param(False, type="boolean", description="push this month again"),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="YYYY-MM-DD: compute the profile for the end of this business day "
            "(a replay); empty: now",
        ),
    },
    tags=["mdm", "build", "report"],
    doc_md=__doc__,
)
def mdm_credit() -> None:
    @task
    def build_profile(**context: Any) -> dict:
        import datetime as dt

        from mdm.connections import params_from_airflow
        from mdm.credit.profile import build_credit
        from mdm.settings import load_settings

        as_of = context["params"].get("as_of")
        return build_credit(
            load_settings(),
            params_from_airflow(WAREHOUSE_CONN_ID),
            str(context["run_id"]),
            dt.date.fromisoformat(as_of) if as_of else None,
        )

    @task
    def monthly_push(**context: Any) -> dict:
        from mdm.connections import params_from_airflow
        from mdm.credit.push import monthly_push
        from mdm.settings import load_settings

        return monthly_push(
            params_from_airflow(WAREHOUSE_CONN_ID),
            load_settings().home / "outbox",
            str(context["run_id"]),
            force=bool(context["params"].get("force_push")),
        )

    build_profile() >> monthly_push()


mdm_credit()
