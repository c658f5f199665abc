"""The scorecard and the report on a world with delivery defects."""

from __future__ import annotations

import re

import psycopg
import pytest
from ingest_support import build_world

from mdm import build, report
from mdm.connections import params_from_url
from mdm.registry import datasets

pytestmark = pytest.mark.integration


def test_scorecard_rates_defective_sources_lower_and_the_report_shows_why(
    settings, warehouse_url, tmp_path
):
    build_world(settings, warehouse_url, tmp_path / "world", 600, 41, defects=True)
    warehouse = params_from_url(warehouse_url)
    build.build_scorecard(settings, warehouse, "quality-test")
    with psycopg.connect(warehouse_url) as conn:
        cards = {
            row[0]: row[1:]
            for row in conn.execute(
                "select dataset, availability, completeness, normativity, timeliness, "
                "quality_index, stars, rejected from quality.quality_dataset_scorecard"
            )
        }
        departments = dict(
            conn.execute("select department, stars from quality.quality_department_scorecard")
        )
    # Every dataset of the registry that delivered is rated: all but the correction answers
    # (jcfk), which come only to the platform's correction requests, none in this world.
    assert set(cards) == set(datasets()) - {"jcfk"}
    # mzt_shzz: five of six deliveries rejected (checksum, count, encoding, truncated, empty)
    availability, *_, index, stars, rejected = cards["mzt_shzz"]
    assert rejected == 5 and float(availability) == pytest.approx(1 / 6, abs=0.001)
    assert stars < cards["swj_grnsr"][5] and index < cards["swj_grnsr"][4], (
        cards["mzt_shzz"],
        cards["swj_grnsr"],
    )
    # bb_sydwdj: a missing required column rejected (and in a world this small, the delivery
    # with three corrupt rows has nothing left and fails the gate too)
    assert cards["bb_sydwdj"][6] >= 1 and float(cards["bb_sydwdj"][0]) < 1
    assert all(1 <= s <= 5 for s in departments.values())

    path = report.write_report(warehouse, tmp_path / "reports")
    text = path.read_text("utf-8")
    assert path.name.startswith("quality-20") and text.startswith("<!doctype html>")
    assert "mzt_shzz" in text and "checksum_mismatch" in text and "to do:" in text
    assert "<svg" in text and "★" in text
    # The charts (issue 24): stars over the quarters, dimensions, the index per dataset and
    # the corrections by state at least; each dataset's failing expectations, by name only.
    assert text.count("<svg ") >= 4 and "Stars per department and quarter" in text
    assert "Failing expectations per dataset" in text and "expect_" in text
    # Published: no ID number, no mobile anywhere in it.
    assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", text)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)
