"""Airflow Asset URIs of the tables DAGs hand to each other (light: imported by DAG files)."""

from __future__ import annotations


def raw_asset_uri(code: str) -> str:
    """``raw.<dataset>``: a logical name for data-aware scheduling, not a connection string."""
    return f"postgres://mdm-warehouse:5432/warehouse/raw/{code}"


def mart_asset_uri(table: str) -> str:
    """``mdm.<table>``: a repository table other DAGs (quality, publish) schedule on."""
    return f"postgres://mdm-warehouse:5432/warehouse/mdm/{table}"
