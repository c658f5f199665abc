"""Ingestion: one DAG per department dataset, generated from the source registry.

``mdm_ingest_<dataset>`` loads what is new for one dataset into
``raw.<dataset>``; task ``announce`` emits that table's Asset event (which the
build DAG is scheduled on) only when a delivery put rows into raw, its extra
naming the deliveries and their row counts; otherwise it is skipped and no event
is emitted (nothing new, a rerun, a re-send, only rejected deliveries):

- **file drops**: every complete delivery not yet loaded, in delivery-id
  order: manifest, checksums, encoding, header and row counts checked, bad
  rows quarantined, the batch gated by Great Expectations, then attached;
- **front-end tables**: the rows above the ``GXSJ`` mark minus an overlap
  window, and once a day (``MDM_FRONTEND_RECONCILE_HOURS``, or param
  ``reconcile``) a reconciliation of the whole table that picks up missed rows
  and turns records gone from the source into deletes.

Task ``profile`` then runs the warning-level expectations on what was
loaded (stored for the quality scorecard). The run fails (task
``check_deliveries``) when a delivery was rejected, a delta is blocked behind
a rejected one, or a delivery was re-sent with different content; the log
says which and what to do. To unblock, trigger
with param ``skip`` = the rejected delivery ids to skip (also a delivery stuck
in ``loading``, whose load fails the same way on every run). Details:
``ops.delivery``, ``ops.delivery_event``, ``quarantine.delivery_row``,
``ops.validation_result``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, task

from mdm.assets import raw_asset_uri
from mdm.dag_policy import default_args, run_alerts
from mdm.registry import Dataset, datasets
from mdm.settings import FRONTEND_CONN_ID, WAREHOUSE_CONN_ID

DEFAULT_ARGS = default_args("ingest", retries=2)


def ingestion_dag(spec: Dataset) -> DAG:
    raw_table = Asset(name=f"raw.{spec.code}", uri=raw_asset_uri(spec.code))
    with DAG(
        dag_id=f"mdm_ingest_{spec.code}",
        description=f"{spec.title} ({spec.department}) -> raw.{spec.code}",
        schedule="0 6 * * *",
        start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        **run_alerts("ingest"),
        tags=["mdm", "ingest"],
        doc_md=__doc__,
        params={
            "skip": Param(
                [],
                type="array",
                description="Delivery ids to skip (rejected, blocked, or stuck in loading), "
                "which unblocks the deltas after them.",
            ),
            "until": Param(
                None,
                type=["null", "string"],
                description="YYYYMMDD: leave deliveries extracted after that day for later "
                "(replaying one day at a time).",
            ),
            "reconcile": Param(
                False,
                type="boolean",
                description="Front-end tables: compare the whole source table with raw now "
                "(missed rows, deleted records); otherwise done every "
                "MDM_FRONTEND_RECONCILE_HOURS.",
            ),
        },
    ) as dag:

        @task
        def ingest(code: str = spec.code, **context: object) -> dict:
            from mdm.connections import params_from_airflow
            from mdm.ingest.run import ingest_dataset
            from mdm.settings import load_settings

            params = context["params"]
            skip = list(params.get("skip") or []) if isinstance(params, dict) else []
            until = params.get("until") if isinstance(params, dict) else None
            reconcile = bool(params.get("reconcile")) if isinstance(params, dict) else False
            frontend = (
                params_from_airflow(FRONTEND_CONN_ID)
                if datasets()[code].channel == "frontend_db"
                else None
            )
            report = ingest_dataset(
                code,
                params_from_airflow(WAREHOUSE_CONN_ID),
                frontend,
                load_settings().landing_dir,
                str(context["run_id"]),
                skip,
                until,
                reconcile=reconcile or None,  # None: when due
            )
            return report.as_dict()

        @task
        def profile(report: dict, code: str = spec.code) -> dict:
            """Warning-level expectations on what was loaded, stored for the scorecard."""
            from mdm.connections import params_from_airflow
            from mdm.ingest.run import profile_deliveries

            loaded = [
                d["delivery_id"]
                for d in report["deliveries"]
                if d["status"] in ("loaded", "partially_quarantined")
            ]
            return profile_deliveries(code, params_from_airflow(WAREHOUSE_CONN_ID), loaded)

        @task(retries=0)
        def check_deliveries(report: dict) -> None:
            from airflow.sdk.exceptions import AirflowFailException

            problems = [
                d["error"] or f"{d['dataset']}/{d['delivery_id']}: {d['status']}"
                for d in report["deliveries"]
                if d["status"] in ("rejected", "blocked", "conflicting_resend")
            ]
            if problems:
                raise AirflowFailException(
                    f"{len(problems)} delivery problem(s) need an engineer:\n" + "\n".join(problems)
                )

        @task(outlets=[raw_table])
        def announce(report: dict, **context: Any) -> dict:
            """The raw table's Asset event, only when a delivery loaded rows (a skipped task
            emits none, so mdm_build is not triggered for nothing)."""
            from airflow.sdk.exceptions import AirflowSkipException

            from mdm.ingest.run import raw_event_extra

            extra = raw_event_extra(report)
            if extra is None:
                raise AirflowSkipException(
                    f"no delivery of {report['dataset']} loaded rows: no {raw_table.name} event"
                )
            context["outlet_events"][raw_table].extra = extra
            return extra

        report = ingest()
        profile(report) >> check_deliveries(report)
        announce(report)
    return dag


for _spec in datasets().values():
    globals()[f"mdm_ingest_{_spec.code}"] = ingestion_dag(_spec)
