"""Fixtures for integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import drop_frontend_tables, reset_ingestion

from mdm import db


@pytest.fixture(scope="session", autouse=True)
def _server(database_server) -> None:  # type: ignore[no-untyped-def]
    """Every integration test may reach the session's server, through a fixture or not (a
    child `mdm` process, settings read from the environment)."""


@pytest.fixture
def clean_ingestion(warehouse_url: str, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    reset_ingestion(warehouse_url)
    drop_frontend_tables(db.frontend_url(settings))
    yield


_RESOLUTION_TABLES = (
    "person_record",
    "legal_person_record",
    "entity_event",
    "steward_decision",
    "record_link",
)
_RESOLUTION_STATE = (
    "select dataset, record_key, person_id, match_method from resolve.person_record "
    "union all select dataset, record_key, legal_person_id, match_method "
    "from resolve.legal_person_record order by 1, 2"
)


@pytest.fixture
def restore_resolution(warehouse_url: str) -> Iterator[None]:
    """A test that moves records (steward decisions, corrupted links) puts them back, pass or
    fail: the module's world is the same for the tests after it."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop schema if exists test_saved cascade")
        conn.execute("create schema test_saved")
        for table in _RESOLUTION_TABLES:
            conn.execute(f"create table test_saved.{table} as table resolve.{table}")
        before = conn.execute(_RESOLUTION_STATE).fetchall()
    yield
    with psycopg.connect(warehouse_url) as conn:
        for table in _RESOLUTION_TABLES:
            conn.execute(f"truncate resolve.{table}")
            conn.execute(
                f"insert into resolve.{table} overriding system value "  # noqa: S608
                f"table test_saved.{table}"
            )
        conn.execute("drop schema test_saved cascade")
        conn.commit()
        assert conn.execute(_RESOLUTION_STATE).fetchall() == before
