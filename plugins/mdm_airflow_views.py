"""The Airflow plugin of the MDM pages (issue 24): the quality report, dbt docs, Data Docs,
Splink model charts and open-data portal, served under ``/mdm`` by the API server behind
Airflow's login and linked from the UI's navigation (category "MDM"). What each page is and
where it lives: ``mdm.views``."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from mdm import views


class MdmViewsPlugin(AirflowPlugin):
    name = "mdm_views"
    fastapi_apps = [  # noqa: RUF012 - Airflow reads the class attributes
        {"app": views.create_app(), "url_prefix": views.URL_PREFIX, "name": "MDM pages"}
    ]
    external_views = views.external_views()  # noqa: RUF012
