"""The open publication's pure parts: statistics suppressed per county, identifiers found."""

from __future__ import annotations

import pytest

from mdm.opendata.publish import AGE_BANDS, TOTAL, identifier_like, suppress_statistics
from mdm_tools.disclosure import recoverable

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("11010519491231002X", ["11010519491231002X"]),  # valid check character
        ("110105194912310021", []),  # wrong check character: not an ID number
        ("4501**********002X", []),  # masked as 6.2 says
        ("电话13912345678", ["13912345678"]),
        ("91350100M000100Y43", []),  # a credit code
        ("11450100007564201X", []),  # an organ's credit code of digits: no birth date in it
        ("450102199002301234", []),  # 30 February
        ("11450000123A5678X9", []),  # digits of a credit code after "11" are no mobile
        ("(2026)桂0102执1234号", []),
        ("12345678901234567890", []),  # inside a longer run of digits
    ],
)
def test_identifier_like(text, found):
    assert identifier_like(text) == found


def test_population_statistics_are_suppressed_per_county():
    rows = [
        {"county_code": "450102", "county_name": "兴宁区", "sex": sex, "age_band": band,
         "persons": persons}
        for (sex, band), persons in {
            ("男", "00-14"): 3, ("女", "00-14"): 25, ("男", "15-29"): 40, ("女", "15-29"): 41,
            ("男", "30-44"): 52, ("女", "30-44"): 48, ("男", "45-59"): 30, ("女", "45-59"): 12,
            ("男", "60+"): 20, ("女", "60+"): 22,
        }.items()
    ]  # fmt: skip
    released = suppress_statistics(rows, "age_band")
    assert len(released) == (len(AGE_BANDS) + 1) * 3
    assert all(r["persons"] is None or r["persons"] >= 10 for r in released)
    assert all(r["suppressed"] == (r["persons"] is None) for r in released)
    grand = next(r for r in released if r["sex"] == TOTAL and r["age_band"] == TOTAL)
    assert grand["persons"] == 293
    table = [
        [next(r["persons"] for r in released if r["age_band"] == band and r["sex"] == sex)
         for sex in ("男", "女", TOTAL)]
        for band in (*AGE_BANDS, TOTAL)
    ]  # fmt: skip
    assert sum(v is None for row in table for v in row) >= 4
    assert recoverable(table) == []


def test_a_county_with_few_taxpayers_of_one_sex_shows_neither_sex():
    rows = [
        {"county_code": "450103", "county_name": "青秀区", "sex": "男", "persons": 4},
        {"county_code": "450103", "county_name": "青秀区", "sex": "女", "persons": 60},
    ]
    released = suppress_statistics(rows, None)
    assert [(r["sex"], r["persons"]) for r in released] == [("男", None), ("女", None), (TOTAL, 64)]
