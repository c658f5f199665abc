"""Airflow Asset URIs of the tables DAGs hand to each other (light: imported by DAG files)."""

from __future__ import annotations

from typing import Any


def raw_asset_uri(code: str) -> str:
    """``raw.<dataset>``: a logical name for data-aware scheduling, not a connection string."""
    return f"postgres://mdm-warehouse:5432/warehouse/raw/{code}"


def mart_asset_uri(table: str) -> str:
    """``mdm.<table>``: a repository table other DAGs (quality, publish) schedule on."""
    return f"postgres://mdm-warehouse:5432/warehouse/mdm/{table}"


def after_publish(dag_id: str, tags: list[str], doc: str | None) -> dict[str, Any]:
    """The ``@dag`` arguments of a DAG that runs after each publish of the repositories (on
    the ``mdm.natural_person`` Asset ``mdm_build`` emits when a build passed the gate): the
    scorecard and the correction loop."""
    import pendulum
    from airflow.sdk import Asset

    from mdm.dag_policy import default_args, run_alerts

    return {
        "dag_id": dag_id,
        "schedule": [Asset(name="mdm.natural_person", uri=mart_asset_uri("natural_person"))],
        "start_date": pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
        "catchup": False,
        "max_active_runs": 1,
        "default_args": default_args("after_publish", retries=1),
        **run_alerts("after_publish"),
        "tags": tags,
        "doc_md": doc,
    }
