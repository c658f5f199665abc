"""Value standardisers against the shared case table (the SQL functions run the same table)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from mdm.standardize import values

pytestmark = pytest.mark.unit

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "standardize.yaml").read_text())
TABLE = [(fn, inp, out) for fn, rows in CASES.items() for inp, out in rows]
TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(("function", "value", "expected"), TABLE)
def test_case_table(function, value, expected):
    if function == "parse_date":
        assert list(values.parse_date(value, today=TODAY)) == expected
    else:
        assert getattr(values, function)(value) == expected


def test_every_function_has_cases():
    public = {
        name
        for name in dir(values)
        if not name.startswith("_") and callable(getattr(values, name)) and name.islower()
    }
    assert public - {"annotations"} == set(CASES)


def test_the_traditional_table_is_a_pairing():
    assert len(values.TRADITIONAL_CHARS) == len(values.SIMPLIFIED_CHARS)
