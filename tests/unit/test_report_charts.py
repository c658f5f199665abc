"""The quarterly report's charts (inline SVG, mdm.charts) and its template (mdm.report)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from mdm import charts
from mdm.report import render_report

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("text", "pixels"),
    [("gat", 21), ("公安厅", 42), ("住房公积金管理中心", 126), ("a公", 21), ("", 0)],
)
def test_a_chinese_character_takes_two_columns(text, pixels):
    assert charts.text_width(text) == pixels


def _bars(svg: str) -> list[tuple[float, str]]:
    root = ET.fromstring(svg)  # noqa: S314 (our own output): it is well-formed XML
    return [(float(r.get("width")), r.get("fill")) for r in root.iter(f"{SVG}rect")]


def test_bars_are_green_at_the_target_and_red_below():
    rows = [
        {"name": "身份证", "rate": 0.79},
        {"name": "营业执照", "rate": 0.8},
        {"name": "x", "rate": None},
    ]
    svg = charts.bars_against_target(rows, "name", "rate", 0.8, "rates")
    assert _bars(svg) == [(284.0, charts.BAD), (288.0, charts.GOOD)]  # 360 px = 100%
    assert "79.0%" in svg and "80.0%" in svg and ">-</text>" in svg
    line = ET.fromstring(svg).find(f"{SVG}line")  # noqa: S314
    left = charts.text_width("营业执照") + 10
    assert float(line.get("x1")) == pytest.approx(left + 288, abs=1)


def test_stars_per_department_and_quarter():
    scores = [
        {"department": "公安厅", "quarter": "2026Q3", "stars": 2},
        {"department": "公安厅", "quarter": "2026Q4", "stars": 4},
        {"department": "民政厅", "quarter": "2026Q4", "stars": 5},
    ]
    svg = charts.stars_over_quarters(scores)
    fills = [fill for _, fill in _bars(svg)]
    assert fills == [charts.STAR_COLOURS[2], charts.STAR_COLOURS[4], charts.STAR_COLOURS[5]]
    assert "公安厅 2026Q4: ★★★★" in svg


def test_corrections_stacked_by_state_with_a_legend():
    rows = [
        {"department": "公安厅", "state": "open", "requests": 3},
        {"department": "公安厅", "state": "confirmed", "requests": 1},
        {"department": "民政厅", "state": "open", "requests": 2},
    ]
    svg = charts.stacked_bars(rows, "department", "state", "requests", "corrections")
    widths = [w for w, fill in _bars(svg) if w > 12]  # the legend's swatches are 12 wide
    assert widths == [270.0, 90.0, 180.0]  # 4 requests = 360 px
    assert ">open</text>" in svg and ">confirmed</text>" in svg


def _data() -> dict:
    department = {
        "quarter": "2026Q4", "department": "公安厅<script>", "datasets": 1, "deliveries": 3,
        "rejected": 1, "normativity": 0.9, "completeness": 0.95, "availability": 1.0,
        "timeliness": 0.5, "corrections": 0.2, "quality_index": 71.0, "stars": 3,
    }  # fmt: skip
    return {
        "quarter": "2026Q4",
        "generated": "2026-12-02 08:00",
        "departments": [department],
        "department_history": [department, {**department, "quarter": "2026Q3", "stars": 2}],
        "datasets": [{**department, "dataset": "gat_czrk", "title": "常住人口"}],
        "goal": 0,
        "trend": [{"quarter": "2026Q4", "datasets": 1, "quality_index": 71.0}],
        "expectations": [
            {
                "dataset": "gat_czrk",
                "suite_name": "gate",
                "expectation": "expect_column_values_to_not_be_null",
                "column": "GMSFHM",
                "severity": "critical",
                "deliveries": 2,
                "last_failed": "2026-11-02",
            },
        ],  # fmt: skip
        "rejected": [],
        "quarantined": [],
        "totals": {"persons": 10, "organisations": 2, "relations": 3},
        "certificates": [
            {
                "certificate_type": "A",
                "certificate_name": "营业执照",
                "department": "市场监管局",
                "expected": 10,
                "in_library": 9,
                "valid": 9,
                "structured": 7,
                "structured_rate": 0.7,
                "main_reasons": "layout_only",
            },
        ],  # fmt: skip
        "certificates_below": [],
        "corrections": [{"department": "公安厅", "state": "open", "requests": 2}],
        "waiting": [],
        "missing": [],
        "prefectures": [],
    }


def test_the_report_has_its_five_charts_inline_and_escapes_what_it_shows():
    page = render_report(_data())
    assert page.count("<svg ") == 5
    assert "<script>" not in page and "公安厅&lt;script&gt;" in page
    # self-contained: nothing fetched (the SVG namespace is a name, not a request)
    assert not re.search(r"""(src|href)\s*=|<link|@import|url\(""", page)
    assert "expect_column_values_to_not_be_null" in page and "GMSFHM" in page
    assert '<span class="stars">★★★☆☆</span>' in page


def test_the_report_without_certificates_or_corrections():
    data = {**_data(), "certificates": [], "corrections": [], "expectations": []}
    page = render_report(data)
    assert page.count("<svg ") == 3 and "电子证照" not in page
    assert "2026-12-02 08:00" in page
