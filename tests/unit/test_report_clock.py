"""Report quarters come from an injectable clock, in Beijing time: no test depends on the date."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm.report import quarter_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC), "2026Q4"),
        (dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC), "2026Q1"),
        (dt.datetime(2026, 6, 30, 15, 59, tzinfo=dt.UTC), "2026Q2"),
        # 16:00 UTC on 30 June is already 1 July in Beijing: the third quarter.
        (dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC), "2026Q3"),
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), "2027Q1"),
    ],
)
def test_the_quarter_of_a_moment_is_the_quarter_in_beijing(moment, expected):
    assert quarter_of(moment) == expected
