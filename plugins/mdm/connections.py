"""Connection parameters for the warehouse and the front-end database.

Inside Airflow tasks they come from Airflow connections (``mdm_warehouse``,
``frontend_db``), so a deployment can keep them in a secrets backend; outside
Airflow (CLI, tests) from the settings. Both give the same libpq keywords.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

logger = logging.getLogger(__name__)

ConnParams = dict[str, Any]


def params_from_url(url: str) -> ConnParams:
    """libpq keywords (host, port, user, password, dbname) parsed from a URL or DSN."""
    return {key: value for key, value in conninfo_to_dict(url).items() if value is not None}


def params_from_airflow(conn_id: str) -> ConnParams:
    """libpq keywords for an Airflow connection (only callable where Airflow is configured)."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    params: ConnParams = {
        "host": conn.host,
        "port": conn.port,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema,
    }
    return {key: value for key, value in params.items() if value not in (None, "")}


def conninfo(params: ConnParams) -> str:
    """A libpq connection string for psycopg."""
    return make_conninfo(**{k: str(v) for k, v in params.items()})
