"""The stewards' waterfall of a Splink link (pure, plus the SVG rendering offline)."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm.resolve import waterfall

pytestmark = pytest.mark.unit

EVIDENCE = {
    "match_probability": 0.9991,
    "match_weight": 10.1,
    "model_file": "person-v2-x.json",
    "weights": {"mw_name": 6.5, "mw_birth_date": 8.0, "mw_address": -1.4},
}


def test_bars_start_from_the_prior_and_end_at_the_match_weight():
    rows = waterfall.waterfall_rows(EVIDENCE)
    assert [r["step"] for r in rows] == ["prior", "name", "birth_date", "address", "match weight"]
    assert rows[0] == {"step": "prior", "weight": -3.0, "start": 0.0, "end": -3.0}
    for before, bar in zip(rows[:-2], rows[1:-1], strict=True):
        assert bar["start"] == before["end"]
        assert bar["end"] == pytest.approx(bar["start"] + bar["weight"])
    assert rows[-2]["end"] == pytest.approx(10.1) == rows[-1]["end"]


def test_the_page_draws_an_svg_per_splink_link_and_nothing_else():
    result = {
        "entity_id": "P0000000001",
        "records": [
            {
                "dataset": "gat_czrk",
                "record_key": "R1",
                "match_method": "register",
                "match_probability": None,
            },
            {
                "dataset": "rst_cbry",
                "record_key": "R2",
                "match_method": "splink",
                "match_probability": 0.9991,
            },
        ],  # fmt: skip
        "events": [
            {
                "event": "linked",
                "dataset": "rst_cbry",
                "record_key": "R2",
                "occurred_at": dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.UTC),
                "evidence": EVIDENCE,
            },
            {
                "event": "created",
                "dataset": "gat_czrk",
                "record_key": "R1",
                "occurred_at": dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC),
                "evidence": {"key": "id"},
            },
        ],  # fmt: skip
    }
    page = waterfall.explain_page(result, 0.995)
    assert page.count("<svg") == 1 and "<script" not in page
    assert "rst_cbry/R2 linked p=0.9991" in page and "0.9991</td>" in page
    assert "birth_date" in page  # the comparison's bar is labelled
