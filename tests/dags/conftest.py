"""DAG tests import Airflow, which reads its database once, at import: start the session's
server first, so that the integration tests after them find Airflow pointed at it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _server(database_server) -> None:  # type: ignore[no-untyped-def]
    pass
