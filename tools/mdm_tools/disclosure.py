"""An attacker's view of a released statistical table (tests of mdm.opendata): which
suppressed cells can be solved for from the released cells and totals. Independent of how
the suppression was chosen: exact linear algebra over the table's row and column equations.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [r[:] for r in matrix]
    rank, cols = 0, len(rows[0]) if rows else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable(released: Sequence[Sequence[int | None]]) -> list[tuple[int, int]]:
    """The suppressed cells (``None``) of an augmented table (interior, row totals in the last
    column, column totals in the last row) whose value the released values determine.

    A cell is determined iff its unit vector lies in the row space of the equations restricted
    to the unknowns: adding it as a row does not raise the rank."""
    rows, cols = len(released), len(released[0])
    unknown = [(i, j) for i in range(rows) for j in range(cols) if released[i][j] is None]
    if not unknown:
        return []
    index = {cell: k for k, cell in enumerate(unknown)}
    equations: list[list[Fraction]] = []
    for i in range(rows):  # sum of the interior of row i minus its total = 0
        eq = [Fraction(0)] * len(unknown)
        for j in range(cols):
            if (i, j) in index:
                eq[index[(i, j)]] = Fraction(1 if j < cols - 1 else -1)
        equations.append(eq)
    for j in range(cols):
        eq = [Fraction(0)] * len(unknown)
        for i in range(rows):
            if (i, j) in index:
                eq[index[(i, j)]] = Fraction(1 if i < rows - 1 else -1)
        equations.append(eq)
    base = _rank(equations)
    found = []
    for cell, k in index.items():
        unit = [Fraction(0)] * len(unknown)
        unit[k] = Fraction(1)
        if _rank([*equations, unit]) == base:
            found.append(cell)
    return sorted(found)
