"""Test session set-up: a private MDM_HOME and database server, torn down at the end.

Airflow reads its configuration once, at import, so the environment (Airflow
home, metadata database, connections) is exported here, before any test
imports ``airflow``. With ``MDM_DATABASE_URL`` set, tests use that server with
their own database names (``*_test``) and start nothing embedded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    from mdm.db import prepare_database
    from mdm.settings import load_settings

    settings = load_settings()
    prepare_database(settings)
    apply_airflow_environment(settings)


def pytest_unconfigure(config: pytest.Config) -> None:
    from mdm.db import embedded
    from mdm.settings import load_settings

    settings = load_settings()
    if settings.uses_embedded_database:
        embedded.stop(settings)
    home = _STATE.get("home")
    if isinstance(home, Path):
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    from mdm.settings import load_settings

    return load_settings()


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
