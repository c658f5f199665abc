"""A renamed person is keyed the same whichever day its records are resolved.

The register renames a person (黄俊孝 -> 黄强, the old name kept as 曾用名) after the other
departments delivered their records under the old name. The daily run keyed every record
while the names still agreed; resolving the same final records from nothing
(``mdm resolve run --full``) saw the old name on most records carrying the number and took
the register's new name for a relative's, and found no valid number of the register
record's new name for its typed-wrong number. Found by the five-day equality world (seed
61, ``test_incremental_equality``); these are its records, by hand, through the
deterministic step only (no dbt: the observation models are hand-made tables).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from ingest_support import reset_world

from mdm.connections import params_from_url
from mdm.resolve.compare import predicted
from mdm.resolve.deterministic import resolve_deterministic
from mdm.resolve.entities import ORGANISATION, PERSON, SCHEMA
from mdm.resolve.full import SCRATCH_SCHEMA, _prepare_scratch

pytestmark = pytest.mark.integration

HUANG = "452631196905293064"  # valid, agrees with 1969-05-29, female
TAN = "452131196309073201"  # valid, agrees with 1963-09-07, female
TAN_TYPED = "452131696309073201"  # TAN with one character typed wrong: fails its check
# dataset, record_key, name_key, former_name_key, id_number, birth_date
DAY_1 = [
    ("mzt_hydj", "MZ135#NV", "黄俊孝", None, HUANG, dt.date(1969, 5, 29)),
    ("rst_cbry", "204_110", "黄俊孝", None, HUANG, dt.date(1969, 5, 29)),
    ("rst_cbry", "204_310", "黄俊孝", None, HUANG, dt.date(1969, 5, 29)),
    ("gat_czrk", "R449", "黄俊孝", None, HUANG, dt.date(1969, 5, 29)),
    ("mzt_hydj", "MZ146#NV", "谭泰", None, TAN, dt.date(1963, 9, 7)),
    ("gat_czrk", "R490", "谭泰", None, TAN_TYPED, dt.date(1963, 9, 7)),
]
# The register renames both; the tax office delivers a record under the new name.
RENAMED = {"R449": ("黄强", "黄俊孝"), "R490": ("谭涵凯", "谭泰")}
LATER = [("swj_grnsr", "176", "黄强", None, HUANG, dt.date(1969, 5, 29))]
PEOPLE = [
    {"mzt_hydj/MZ135#NV", "rst_cbry/204_110", "rst_cbry/204_310", "gat_czrk/R449", "swj_grnsr/176"},
    {"mzt_hydj/MZ146#NV", "gat_czrk/R490"},
]


def _observations(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    """The person observation model's columns the deterministic step reads, as the model
    derives them: a valid number keys its record (``id_number``), else none (``singleton``)."""
    conn.execute("truncate intermediate.int_person_observations")
    with conn.cursor().copy(
        "copy intermediate.int_person_observations (dataset, record_key, name_key, "
        "former_name_key, former_name, id_number, birth_date, id_number_valid, "
        "id_agrees_with_record, match_key, match_method) from stdin"
    ) as copy:
        for dataset, key, name, former, number, born in rows:
            valid = number != TAN_TYPED
            copy.write_row(
                (dataset, key, name, former, former, number, born, valid, valid,
                 number if valid else None, "id_number" if valid else "singleton")
            )  # fmt: skip


def _people(conn: psycopg.Connection, schema: str) -> list[set[str]]:
    entities: dict[str, set[str]] = {}
    for (dataset, key), entity in predicted(conn, schema)["person"].items():
        entities.setdefault(entity, set()).add(f"{dataset}/{key}")
    return sorted(entities.values(), key=min)


@pytest.fixture
def hand_made(settings, warehouse_url: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    reset_world(settings, warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            f"""create table {PERSON.observations} (dataset text, record_key text,
                name_key text, former_name_key text, former_name text, id_number text,
                birth_date date, id_number_valid boolean, id_agrees_with_record boolean,
                match_key text, match_method text)"""
        )
        conn.execute(
            f"""create table {ORGANISATION.observations} (dataset text, record_key text,
                name_key text, uscc text, uscc_valid boolean, legal_rep_id_number text,
                legal_rep_id_number_valid boolean, match_key text, match_method text)"""
        )
    yield warehouse_url
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {SCRATCH_SCHEMA} cascade")
    reset_world(settings, warehouse_url)


def test_a_renamed_person_is_keyed_alike_day_by_day_and_from_nothing(hand_made):
    warehouse = params_from_url(hand_made)
    with psycopg.connect(hand_made) as conn:
        _observations(conn, DAY_1)
        conn.commit()
    resolve_deterministic(warehouse, "day-1")
    renamed = [
        (d, k, *RENAMED.get(k, (name, former)), number, born)
        for d, k, name, former, number, born in DAY_1
    ]
    with psycopg.connect(hand_made) as conn:
        _observations(conn, renamed + LATER)
        conn.commit()
    resolve_deterministic(warehouse, "day-3")
    _prepare_scratch(warehouse)
    resolve_deterministic(warehouse, "full", SCRATCH_SCHEMA)
    with psycopg.connect(hand_made) as conn:
        assert _people(conn, SCHEMA) == PEOPLE  # day by day
        assert _people(conn, SCRATCH_SCHEMA) == PEOPLE  # from nothing
