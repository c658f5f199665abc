"""Test session set-up: a private MDM_HOME, and a database only for the tests that need one.

``pytest_configure`` starts nothing: it exports a private ``MDM_HOME`` and the Airflow
environment, before any test imports ``airflow`` (Airflow reads its configuration once, at
import). Until a server runs, that environment's database is a closed port (``NO_DATABASE_URL``).
The session fixture ``database_server``, which every integration and DAG test uses (their conftest),
starts the server and migrates it the first time a test needs it, points the Airflow
environment at it, and stops it at the end of the session. With ``MDM_DATABASE_URL`` set,
tests use that server with their own database names (``*_test``) and start nothing embedded.

Every test is marked ``unit`` or ``integration`` (checked at collection). A unit test reaches
no database: it may not use the ``database_server`` fixture, and a connection it tries fails loudly.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mdm.settings import Settings

# Where the database is while none runs: connections are refused at once, nothing starts.
NO_DATABASE_SERVER = "no-database-started@127.0.0.1:1"
NO_DATABASE_URL = f"postgresql://{NO_DATABASE_SERVER}/none"
KINDS = ("unit", "integration")

_STATE: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    # A short path under /tmp, readable by the server's OS user when we are root.
    home = Path(tempfile.mkdtemp(prefix="mdm-test-"))
    home.chmod(0o755)
    _STATE["home"] = home
    os.environ["MDM_HOME"] = str(home)
    os.environ["MDM_LANDING_DIR"] = str(home / "landing")
    if os.environ.get("MDM_DATABASE_URL"):
        os.environ.setdefault("MDM_WAREHOUSE_DB", "mdm_test")
        os.environ.setdefault("MDM_AIRFLOW_DB", "airflow_test")
        os.environ.setdefault("MDM_FRONTEND_DB", "frontend_test")
    # Airflow must not pick up connections of a developer's shell.
    for key in ("AIRFLOW_HOME", "AIRFLOW_CONN_MDM_WAREHOUSE", "AIRFLOW_CONN_FRONTEND_DB"):
        os.environ.pop(key, None)

    from mdm.airflow_home import apply_airflow_environment
    from mdm.settings import load_settings

    apply_airflow_environment(load_settings({**os.environ, "MDM_DATABASE_URL": NO_DATABASE_URL}))


def pytest_unconfigure(config: pytest.Config) -> None:
    from mdm.db import embedded
    from mdm.settings import load_settings

    settings = load_settings()
    if settings.uses_embedded_database:
        embedded.stop(settings)  # normally stopped already by `database_server`: an interrupted run
    home = _STATE.get("home")
    if isinstance(home, Path):
        shutil.rmtree(home, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before ``-m`` deselects anything: a test without its kind would silently drop out of
    both ``-m unit`` and ``-m integration``, and a unit test must not ask for the database."""
    problems = []
    for item in items:
        kinds = sorted({mark.name for mark in item.iter_markers() if mark.name in KINDS})
        if len(kinds) != 1:
            problems.append(
                f"{item.nodeid}: marked {kinds or 'neither'}; mark it unit or integration"
            )
        elif kinds == ["unit"] and "database_server" in item.fixturenames:
            problems.append(
                f"{item.nodeid}: marked unit but uses the database; mark it integration"
            )
    if problems:
        raise pytest.UsageError("\n".join(problems))


@pytest.fixture(autouse=True)
def _unit_tests_reach_no_database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("unit") is None:
        return
    # Settings read from the environment, here or in a child process, name a closed port:
    # nothing embedded starts, and a connection is refused.
    monkeypatch.setenv("MDM_DATABASE_URL", NO_DATABASE_URL)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(
            f"{request.node.nodeid} is marked unit but connects to a database: "
            "mark it integration (tests/integration/)"
        )

    monkeypatch.setattr(psycopg, "connect", refuse)
    monkeypatch.setattr(psycopg.Connection, "connect", refuse)


def _prepare_database(settings: Settings) -> str:
    from mdm.db import prepare_database

    return prepare_database(settings)


def _point_airflow_at_the_database(settings: Settings) -> None:
    from mdm.airflow_home import airflow_environment

    fresh = airflow_environment(settings, environ={})
    os.environ.update(
        {
            key: value
            for key, value in fresh.items()
            if NO_DATABASE_SERVER in os.environ.get(key, "")
        }
    )
    if "airflow.settings" in sys.modules:
        # Imported before the server ran (a unit test read Airflow's CLI): its ORM was made
        # for the closed port.
        from airflow import settings as airflow_settings
        from airflow.configuration import conf

        airflow_settings.configure_vars()
        airflow_settings.reconfigure_orm()
        conf.mask_secrets()


@pytest.fixture(scope="session")
def database_server() -> Iterator[Settings]:
    """The session's server: started and migrated when a test first needs it, stopped at
    the end. Integration and DAG tests use it through their conftest."""
    from mdm.db import embedded
    from mdm.settings import load_settings

    settings = load_settings()
    _prepare_database(settings)
    _point_airflow_at_the_database(settings)
    yield settings
    if settings.uses_embedded_database:
        embedded.stop(settings)


@pytest.fixture(scope="session")
def settings(database_server: Settings) -> Settings:
    return database_server


@pytest.fixture(scope="session")
def warehouse_url(settings) -> str:  # type: ignore[no-untyped-def]
    from mdm import db

    return db.warehouse_url(settings)


@pytest.fixture(scope="session")
def airflow_metadata(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Airflow's metadata database, migrated once per session (~7 s)."""
    from mdm.airflow_home import migrate_metadata

    migrate_metadata(settings)
    yield
