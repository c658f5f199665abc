"""The SQL functions of schema std (used by dbt) against the same case tables as Python."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
import yaml

pytestmark = pytest.mark.integration

CASES_DIR = Path(__file__).parents[1] / "cases"
# Python functions without a SQL twin: the pipeline does not need them in SQL.
PYTHON_ONLY = {
    "upgrade_id_15_to_18",  # inside std.normalize_id_number
    "regno_check_digit",
    "is_valid_registration_number",
    "legacy_taxpayer_org_code",
}


def _table(name: str) -> list[tuple[str, object, object]]:
    cases = yaml.safe_load((CASES_DIR / name).read_text())
    return [(fn, inp, out) for fn, rows in cases.items() for inp, out in rows]


ALL = _table("identifiers.yaml") + _table("standardize.yaml")
TABLE = [c for c in ALL if c[0] not in PYTHON_ONLY]


@pytest.fixture(scope="module")
def conn(warehouse_url):
    with psycopg.connect(warehouse_url) as connection:
        yield connection


@pytest.mark.parametrize(("function", "value", "expected"), TABLE)
def test_sql_function_matches_case_table(conn, function, value, expected):
    if function == "parse_date":
        row = conn.execute(
            "select iso, flag from std.parse_date(%s, date '2026-11-27')", (value,)
        ).fetchone()
        result: object = [row[0].isoformat() if row[0] else None, row[1]]
    else:
        result = conn.execute(f"select std.{function}(%s)", (value,)).fetchone()[0]  # noqa: S608
        if isinstance(result, dt.date):
            result = result.isoformat()
    assert result == expected
