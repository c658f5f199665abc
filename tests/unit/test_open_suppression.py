"""Complementary suppression of the open statistics (standard 6.2) against the attacker's
solver: table-driven cases, then random tables."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from mdm.opendata.suppression import THRESHOLD, augment, suppress
from mdm_tools.disclosure import recoverable

pytestmark = pytest.mark.unit
CASES = yaml.safe_load(
    (Path(__file__).parents[1] / "cases" / "suppression.yaml").read_text("utf-8")
)


def _released(cells: list[list[int]], mask: list[list[bool]]) -> list[list[int | None]]:
    table = augment(cells)
    return [[None if mask[i][j] else v for j, v in enumerate(row)] for i, row in enumerate(table)]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_suppression_cases(case):
    mask = suppress(case["cells"])
    hidden = sorted([i, j] for i, row in enumerate(mask) for j, s in enumerate(row) if s)
    assert hidden == sorted(case["suppressed"])
    released = _released(case["cells"], mask)
    assert recoverable(released) == []
    assert all(v is None or v >= THRESHOLD for row in released for v in row)


def test_the_solver_finds_a_lone_suppressed_cell():
    # Without complements, a hidden cell is its row total minus the others.
    released = [[None, 30, 35], [20, 25, 45], [25, 55, 80]]
    assert recoverable(released) == [(0, 0)]


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_leave_nothing_recoverable(seed):
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 6), rng.randint(1, 3)
    cells = [
        [rng.choice([0, 1, 3, 7, 9, 10, 12, 25, 60]) for _ in range(cols)] for _ in range(rows)
    ]
    mask = suppress(cells)
    released = _released(cells, mask)
    assert recoverable(released) == []
    assert all(v is None or v >= THRESHOLD for row in released for v in row)
