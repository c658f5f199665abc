"""dbt's raw sources are the registry's datasets and columns (regenerate: `mdm dbt-sources`)."""

from __future__ import annotations

import pytest

from mdm.registry.dbt_sources import (
    CATALOGUE_SEED,
    COLUMNS_SEED,
    SOURCES_FILE,
    render_catalogue_csv,
    render_columns_csv,
    render_sources_yml,
)

pytestmark = pytest.mark.unit


def test_committed_sources_match_the_registry():
    assert SOURCES_FILE.read_text("utf-8") == render_sources_yml(), (
        "dbt sources are out of date: run `.venv/bin/mdm dbt-sources`"
    )


def test_committed_catalogue_seed_matches_the_registry():
    assert CATALOGUE_SEED.read_text("utf-8") == render_catalogue_csv(), (
        "dbt seed dataset_catalogue.csv is out of date: run `.venv/bin/mdm dbt-sources`"
    )


def test_committed_columns_seed_matches_the_registry():
    assert COLUMNS_SEED.read_text("utf-8") == render_columns_csv(), (
        "dbt seed dataset_columns.csv is out of date: run `.venv/bin/mdm dbt-sources`"
    )
