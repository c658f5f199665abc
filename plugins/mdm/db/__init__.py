"""The PostgreSQL server behind the platform: embedded by default, or MDM_DATABASE_URL.

One server holds three databases: the warehouse (``mdm``), Airflow's metadata
(``airflow``) and, in development, demos and tests, the stand-in for the
departments' front-end database (``frontend``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from mdm.connections import redact_url  # also re-exported: db.redact_url
from mdm.db import embedded
from mdm.settings import Settings, refuse_placeholder_secrets

logger = logging.getLogger(__name__)

MAINTENANCE_DB = "postgres"


class DatabaseUnavailableError(RuntimeError):
    """No server to talk to: say which one and what to do."""


def with_database(url: str, database: str) -> str:
    """``url`` with its database (path) replaced by ``database``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def server_url(settings: Settings, database: str) -> str:
    """A libpq URL for ``database`` on the configured server (does not start anything)."""
    return _server_url(settings, database, display=False)


def display_url(settings: Settings, database: str) -> str:
    """The URL of ``database`` to print: no password in it (the embedded server's stays in a
    0600 passfile the URL names, so psql can use it as it is)."""
    return _server_url(settings, database, display=True)


def _server_url(settings: Settings, database: str, *, display: bool) -> str:
    if settings.external_database_url:
        url = with_database(settings.external_database_url, database)
        return redact_url(url) if display else url
    embedded.refuse_in_production(settings)
    info = embedded.status(settings)
    if info is None:
        raise DatabaseUnavailableError(
            f"the embedded PostgreSQL of MDM_HOME={settings.home} is not running: "
            "start it with `mdm db start` (or set MDM_DATABASE_URL to use another server)"
        )
    if not info.password:
        raise DatabaseUnavailableError(
            f"the embedded PostgreSQL of MDM_HOME={settings.home} runs but its password file "
            f"{embedded.password_file(settings)} is missing: run `mdm db start`"
        )
    return info.display_url(database) if display else info.url(database)


def superuser_password(settings: Settings) -> str:
    """The embedded server's superuser password (``$MDM_HOME/secrets``), e.g. for a loopback
    dblink that authenticates by configuration. Never log or print it."""
    return embedded.superuser_password(settings)


def warehouse_url(settings: Settings) -> str:
    return server_url(settings, settings.warehouse_db)


def frontend_url(settings: Settings) -> str:
    return server_url(settings, settings.frontend_db)


def airflow_url(settings: Settings) -> str:
    return server_url(settings, settings.airflow_db)


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection that commits on success and rolls back on error."""
    with psycopg.connect(url, autocommit=autocommit, connect_timeout=10) as conn:
        yield conn


def ensure_server(settings: Settings) -> str:
    """Make sure a server answers; start the embedded one if it is ours. Returns a description."""
    if settings.external_database_url:
        url = settings.external_database_url
        try:
            with connect(url) as conn:
                version = conn.execute("show server_version").fetchone()
        except psycopg.OperationalError as err:
            raise DatabaseUnavailableError(
                redact_url(f"cannot reach MDM_DATABASE_URL ({url}): {err}".strip())
            ) from err
        return f"external PostgreSQL {version[0] if version else '?'} at {redact_url(url)}"
    info = embedded.start(settings)
    return f"embedded PostgreSQL on {info.host}:{info.port} (pid {info.pid}, data {info.pgdata})"


def ensure_databases(settings: Settings) -> list[str]:
    """Create the warehouse, airflow and frontend databases if missing; return those created."""
    created: list[str] = []
    with connect(server_url(settings, MAINTENANCE_DB), autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in settings.database_names:
            if name in existing:
                continue
            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                continue  # created concurrently by another process
            except psycopg.errors.InsufficientPrivilege as err:
                raise DatabaseUnavailableError(
                    f"database {name!r} does not exist and this role may not create it: "
                    f"ask the DBA to run `create database {name}` ({err})"
                ) from err
            created.append(name)
            logger.info("created database %s", name)
    return created


def prepare_database(settings: Settings) -> str:
    """Server up, the three databases present, warehouse migrated, the standardisation rules
    built (dbt functions, only when one is missing). Idempotent.

    Returns the description of the server (:func:`ensure_server`).
    """
    from mdm.access.roles import ensure_roles
    from mdm.catalogue.store import load as load_catalogue
    from mdm.connections import params_from_url
    from mdm.db.migrate import apply_migrations
    from mdm.ingest.raw_tables import ensure_all_raw_tables
    from mdm.transform import ensure_std_functions

    if settings.is_production:
        refuse_placeholder_secrets()
    description = ensure_server(settings)
    created = ensure_databases(settings)
    with connect(warehouse_url(settings)) as conn:
        applied = apply_migrations(conn)
        ensure_all_raw_tables(conn)
        ensure_roles(conn)
        load_catalogue(conn)  # the catalogue the grants' grades and the open checks read
    ensure_std_functions(settings, params_from_url(warehouse_url(settings)))
    logger.info(
        "databases created: %s; migrations applied: %s",
        created or "none",
        applied or "none pending",
    )
    return description
