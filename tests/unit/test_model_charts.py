"""The threshold's justification from Splink's truth table (pure)."""

from __future__ import annotations

import math

import pytest

from mdm.resolve import model_charts, person_model

pytestmark = pytest.mark.unit


def _row(probability: float, precision: float, recall: float, f1: float) -> dict:
    weight = math.log2(probability / (1 - probability))
    return {
        "truth_threshold": weight,
        "match_probability": probability,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "p": 500.0,
    }


TABLE = [
    _row(0.5, 0.90, 0.999, 0.947),
    _row(0.9, 0.97, 0.995, 0.982),
    _row(0.99, 0.995, 0.990, 0.9925),
    _row(0.999, 0.9995, 0.970, 0.984),
]


@pytest.mark.parametrize(
    ("threshold", "expected_probability"),
    [(0.995, 0.999), (0.99, 0.99), (0.999, 0.999), (0.6, 0.9), (0.3, 0.5)],
)
def test_the_pairs_linking_are_those_of_the_lowest_step_at_or_above(
    threshold, expected_probability
):
    row = model_charts.threshold_row(TABLE, threshold)
    assert row is not None and row["match_probability"] == pytest.approx(expected_probability)


def test_above_every_step_nothing_links():
    assert model_charts.threshold_row(TABLE, 0.9999) is None
    found = model_charts.justification(TABLE, 0.9999)["at_threshold"]
    assert (found["precision"], found["recall"]) == (1.0, 0.0)


def test_justification_names_the_threshold_and_the_best_f1():
    found = model_charts.justification(TABLE, 0.995)
    assert found["at_threshold"] == {
        "match_probability": 0.999,
        "precision": 0.9995,
        "recall": 0.97,
        "f1": 0.984,
    }
    assert found["best_f1"]["match_probability"] == 0.99
    assert found["labelled_pairs"] == 500
    page = model_charts.index_page(person_model, "person-v2-x.json", 1234, found)
    assert "LINK_THRESHOLD in code (0.995)" in page and "1,234 records" in page
    assert all(f'href="{name}"' in page for name in model_charts.CHARTS)
