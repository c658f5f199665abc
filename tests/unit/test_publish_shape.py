"""How a publish brings the published table to the build's shape (plugins/mdm/publish.py)."""

from __future__ import annotations

import pytest
from psycopg import sql

from mdm.publish import _shape_statements

pytestmark = pytest.mark.unit

PUBLISHED = sql.SQL("mdm.natural_person")
BUILD = sql.SQL("mdm_build.natural_person")


def statements(published: dict[str, str], build: dict[str, str]) -> list[str]:
    return [s.as_string(None) for s in _shape_statements(PUBLISHED, BUILD, published, build)]


def test_the_same_shape_needs_nothing():
    assert statements({"person_id": "text"}, {"person_id": "text"}) == []


def test_a_new_column_is_added_in_place_so_dependent_views_stay():
    assert statements(
        {"person_id": "text", "name": "text"},
        {"person_id": "text", "nickname": "character varying(20)", "name": "text"},
    ) == ['alter table mdm.natural_person add column "nickname" character varying(20)']


@pytest.mark.parametrize(
    "build",
    [
        {"person_id": "text"},  # a column dropped
        {"person_id": "text", "name": "character varying(40)"},  # a column retyped
    ],
)
def test_any_other_change_recreates_the_table(build):
    assert statements({"person_id": "text", "name": "text"}, build) == [
        "drop table if exists mdm.natural_person cascade",
        "create table mdm.natural_person (like mdm_build.natural_person including all)",
    ]


def test_the_first_publish_creates_the_table():
    assert statements({}, {"person_id": "text"})[-1].startswith("create table")
