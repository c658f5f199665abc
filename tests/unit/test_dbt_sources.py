"""dbt's raw sources are the registry's datasets and columns (regenerate: `mdm dbt-sources`)."""

from __future__ import annotations

import pytest

from mdm.registry.dbt_sources import SOURCES_FILE, render_sources_yml

pytestmark = pytest.mark.unit


def test_committed_sources_match_the_registry():
    assert SOURCES_FILE.read_text("utf-8") == render_sources_yml(), (
        "dbt sources are out of date: run `.venv/bin/mdm dbt-sources`"
    )
