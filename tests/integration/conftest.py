"""Fixtures for integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import reset_ingestion

from mdm import db


@pytest.fixture
def clean_ingestion(warehouse_url: str, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    reset_ingestion(warehouse_url)
    with psycopg.connect(db.frontend_url(settings), autocommit=True) as conn:
        conn.execute("drop table if exists public.swj_grnsr, public.swj_dwnsr")
    yield
