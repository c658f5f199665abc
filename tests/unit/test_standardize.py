"""The case tables cover the rules, and every case runs against one implementation.

The standardisation rules are SQL functions (dbt_project/functions) and run on the case
tables in tests/integration/test_standardize_sql.py; the identifier arithmetic Python keeps
for the generator runs its cases in test_identifiers.py. Their code lists are seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mdm.standardize import identifiers, values
from mdm.transform import std_function_names

pytestmark = pytest.mark.unit

CASES_DIR = Path(__file__).parents[1] / "cases"
CASES = {
    name: yaml.safe_load((CASES_DIR / name).read_text())
    for name in ("identifiers.yaml", "standardize.yaml")
}


def _python_functions() -> set[str]:
    return {
        name
        for name in dir(identifiers)
        if not name.startswith("_") and callable(getattr(identifiers, name)) and name.islower()
    } - {"annotations"}


@pytest.mark.parametrize("table", sorted(CASES))
def test_every_case_runs_against_an_implementation(table):
    """A case of a function that no longer exists would silently run nowhere."""
    assert set(CASES[table]) - std_function_names() - _python_functions() == set()


def test_every_python_function_has_cases():
    assert _python_functions() <= set(CASES["identifiers.yaml"])


def test_the_traditional_table_is_a_pairing():
    traditional, simplified = values.TRADITIONAL_CHARS, values.SIMPLIFIED_CHARS
    assert len(traditional) == len(simplified) > 40
    assert all(t != s for t, s in zip(traditional, simplified, strict=True))
    assert len(set(simplified)) == len(simplified)


def test_the_generator_lists_are_the_seeds():
    assert values.OLD_COUNTY_NAMES["横县"] == "横州市"
    assert values.TRADITIONAL_CHARS.index("陳") == values.SIMPLIFIED_CHARS.index("陈")
