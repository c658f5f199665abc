"""Statistical disclosure control for the open statistics (standard 6.2): a count below 10
is suppressed, and so are enough other cells that no suppressed cell can be worked out from
the released cells and totals. Pure functions.

A table is its interior cells (rows x columns); it is released with its row totals, column
totals and grand total (the *augmented* table, (m+1) x (n+1), totals last). Knowing every
released value, the unknown cells satisfy one equation per row and per column. Each cell
appears in exactly one row and one column equation, so the unknowns are the edges of a
bipartite graph (row nodes, column nodes), and an unknown is determined exactly when its
edge is a bridge of that graph (it lies on no cycle). Primary suppression takes the cells
below the threshold; complementary suppression then closes a cycle through every bridge
along the cheapest path (fewest persons hidden).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)

THRESHOLD = 10

Cell = tuple[int, int]


def augment(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The interior with its row totals (last column), column totals and grand total (last
    row)."""
    rows = [list(r) + [sum(r)] for r in cells]
    totals = [sum(r[j] for r in rows) for j in range(len(rows[0]))]
    return [*rows, totals]


def _bridge(suppressed: set[Cell], edge: Cell) -> bool:
    """True when ``edge`` is on no cycle of the suppressed cells' graph."""
    rest = suppressed - {edge}
    start, goal = ("r", edge[0]), ("c", edge[1])
    seen, stack = {start}, [start]
    while stack:
        side, index = stack.pop()
        for i, j in rest:
            here = (side == "r" and i == index) or (side == "c" and j == index)
            if not here:
                continue
            other = ("c", j) if side == "r" else ("r", i)
            if other == goal:
                return False
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return True


def _cheapest_cycle(table: list[list[int]], suppressed: set[Cell], edge: Cell) -> list[Cell]:
    """The released cells to suppress so that ``edge`` lies on a cycle: the cheapest path
    from its row to its column, suppressed cells free, a released cell costing its count
    (plus one, so that fewer cells win a tie)."""
    rows, cols = len(table), len(table[0])
    start, goal = ("r", edge[0]), ("c", edge[1])
    best: dict[tuple[str, int], int] = {start: 0}
    came: dict[tuple[str, int], tuple[tuple[str, int], Cell]] = {}
    queue: list[tuple[int, tuple[str, int]]] = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best.get(node, cost):
            continue
        side, index = node
        steps = (
            [((("c", j)), (index, j)) for j in range(cols)]
            if side == "r"
            else [((("r", i)), (i, index)) for i in range(rows)]
        )
        for other, cell in steps:
            if cell == edge:
                continue
            step = 0 if cell in suppressed else table[cell[0]][cell[1]] + 1
            if cost + step < best.get(other, cost + step + 1):
                best[other] = cost + step
                came[other] = (node, cell)
                heapq.heappush(queue, (cost + step, other))
    path, node = [], goal
    while node != start:
        node, cell = came[node]
        if cell not in suppressed:
            path.append(cell)
    return path


def suppress(cells: Sequence[Sequence[int]], threshold: int = THRESHOLD) -> list[list[bool]]:
    """Which cells of the augmented table (:func:`augment`) to suppress: every count below
    ``threshold`` (zeros too: a count describes at least ``threshold`` persons or is not
    shown), then complements until no suppressed cell can be solved for."""
    table = augment(cells)
    suppressed = {
        (i, j) for i, row in enumerate(table) for j, value in enumerate(row) if value < threshold
    }
    changed = True
    while changed:
        changed = False
        for edge in sorted(suppressed):
            if _bridge(suppressed, edge):
                suppressed |= set(_cheapest_cycle(table, suppressed, edge))
                changed = True
                break
    return [[(i, j) in suppressed for j in range(len(table[0]))] for i in range(len(table))]
