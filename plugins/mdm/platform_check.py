"""The platform check: the warehouse is migrated, the sources answer, dbt builds.

Called by the ``mdm_platform_check`` DAG (and therefore by ``mdm run`` / the
scheduler); each function is one task and records itself in ``ops.run_log``.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.db.migrate import apply_migrations
from mdm.ingest.errors import SourceUnavailableError
from mdm.ingest.raw_tables import ensure_all_raw_tables
from mdm.runlog import logged_step
from mdm.settings import Settings
from mdm.transform import run_dbt

logger = logging.getLogger(__name__)

__all__ = ["SourceUnavailableError", "build_models", "check_frontend", "migrate_warehouse"]


def migrate_warehouse(warehouse: ConnParams, run_id: str) -> list[str]:
    """Apply pending warehouse migrations; return the versions applied. The standardisation
    rules are dbt's: the DAG's build_models builds them."""
    dsn = conninfo(warehouse)
    with psycopg.connect(dsn) as conn:
        applied = apply_migrations(conn)
        ensure_all_raw_tables(conn)
    with logged_step(dsn, run_id, "migrate_warehouse") as outcome:
        outcome.detail = {"applied": applied}
    logger.info("warehouse migrations applied: %s", applied or "none pending")
    return applied


def check_frontend(warehouse: ConnParams, frontend: ConnParams, run_id: str) -> dict[str, Any]:
    """Connect to the front-end database and report its version and tables."""
    with logged_step(conninfo(warehouse), run_id, "check_frontend") as outcome:
        try:
            with psycopg.connect(conninfo(frontend), connect_timeout=10) as conn:
                version_row = conn.execute("show server_version").fetchone()
                tables = [
                    row[0]
                    for row in conn.execute(
                        "select table_name from information_schema.tables "
                        "where table_schema = 'public' order by table_name"
                    )
                ]
        except psycopg.OperationalError as err:
            raise SourceUnavailableError(
                f"front-end database {frontend.get('host')}:{frontend.get('port')}/"
                f"{frontend.get('dbname')} refused the connection: {str(err).strip()}. "
                "Check the Airflow connection 'frontend_db' and the department's server."
            ) from err
        outcome.detail = {
            "server_version": version_row[0] if version_row else None,
            "tables": tables,
        }
        outcome.rows_affected = len(tables)
    return outcome.detail


def build_models(settings: Settings, warehouse: ConnParams, run_id: str, select: str) -> int:
    """``dbt build --select <select>``; return the number of nodes built or tested."""
    with logged_step(conninfo(warehouse), run_id, "build_models") as outcome:
        nodes = run_dbt(settings, warehouse, ["build", "--select", select])
        outcome.rows_affected = len(nodes)
        outcome.detail = {"select": select, "nodes": [n.unique_id for n in nodes]}
    return len(nodes)
