"""Quality: the scorecard and the quarterly report, after every publish of the repositories.

Scheduled on the repositories' Assets (emitted by ``mdm_build`` when a build
passed the publish gate): dbt builds schema ``quality`` (per delivery, per
dataset and quarter on the five dimensions 规范性 / 完整性 / 可用性 / 时效性 / 纠错整改 with a
0-100 index and 1-5 stars, per department), then the HTML report of the
current quarter is written to ``$MDM_SHARED_DIR/reports/`` (default ``$MDM_HOME/shared/reports``),
and the dbt docs and Great Expectations Data Docs to ``dbt-docs/`` and ``data-docs/`` beside
it (mdm.docs; the Airflow UI links them under "MDM").
"""

from __future__ import annotations

from airflow.sdk import dag, task

from mdm.assets import after_publish
from mdm.settings import WAREHOUSE_CONN_ID


@dag(**after_publish("mdm_quality", ["mdm", "quality", "report"], __doc__))
def mdm_quality() -> None:
    @task
    def build_scorecard(**context: object) -> dict:
        from mdm import build
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        return build.build_scorecard(
            load_settings(), params_from_airflow(WAREHOUSE_CONN_ID), str(context["run_id"])
        )

    @task
    def write_report() -> str:
        from mdm import report
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        settings = load_settings()
        return str(
            report.write_report(params_from_airflow(WAREHOUSE_CONN_ID), settings.reports_dir)
        )

    @task
    def write_docs() -> dict:
        """The dbt docs and the Data Docs into the shared folder (linked from the UI)."""
        from mdm import docs
        from mdm.connections import params_from_airflow
        from mdm.settings import load_settings

        settings, warehouse = load_settings(), params_from_airflow(WAREHOUSE_CONN_ID)
        return {
            "dbt_docs": str(docs.write_dbt_docs(settings, warehouse)),
            "data_docs": str(docs.write_data_docs(settings, warehouse)),
        }

    build_scorecard() >> [write_report(), write_docs()]


mdm_quality()
