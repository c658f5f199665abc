"""Charts of the quality report as inline SVG: no browser, no network, no JavaScript.

Hand-made on purpose (docs/adr/0024): Altair is installed but renders SVG only through
``vl-convert``, which is not; these four kinds of chart are a few lines each. Every text
is escaped; every function is pure (rows in, SVG text out) and tested on its output.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"'
CHAR_PX = 7  # width of a narrow character at 12px; a Chinese character takes two
ROW_PX = 22
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#9e9e9e"
# Stars 1..5, from red to green.
STAR_COLOURS = {1: "#c62828", 2: "#ef6c00", 3: "#f9a825", 4: "#7cb342", 5: "#2e7d32"}
STATE_COLOURS = {
    "open": "#c62828", "reported": "#ef6c00", "reopened": "#8e24aa",
    "answered": "#1e88e5", "confirmed": "#2e7d32", "rejected": "#757575",
}  # fmt: skip


def text_width(text: str) -> int:
    """Pixels a label takes at 12px: wide (Chinese) characters count twice."""
    return CHAR_PX * sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}" {FONT} '
        f'font-size="12">' + "".join(body) + "</svg>"
    )


def _share_colour(value: float) -> str:
    """0 -> red, 1 -> green, through amber."""
    value = max(0.0, min(1.0, value))
    if value < 0.5:
        r, g = 198, int(40 + (168 - 40) * value * 2)
    else:
        r, g = int(198 - (198 - 46) * (value - 0.5) * 2), int(168 - (168 - 125) * (value - 0.5) * 2)
    return f"#{r:02x}{g:02x}32"


def grid(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Mapping[tuple[str, str], Any],
    text: Callable[[Any], str],
    colour: Callable[[Any], str],
    label: str,
    cell_px: int = 64,
) -> str:
    """A table of coloured cells: a row per ``rows``, a column per ``columns``; a missing
    cell is left blank."""
    left = max((text_width(r) for r in rows), default=0) + 10
    width = left + cell_px * len(columns) + 4
    height = ROW_PX * (len(rows) + 1) + 4
    body = []
    for j, column in enumerate(columns):
        x = left + j * cell_px + cell_px / 2
        body.append(f'<text x="{x:.0f}" y="15" text-anchor="middle">{_esc(column)}</text>')
    for i, row in enumerate(rows):
        y = ROW_PX * (i + 1)
        body.append(f'<text x="0" y="{y + 15}">{_esc(row)}</text>')
        for j, column in enumerate(columns):
            value = cells.get((row, column))
            if value is None:
                continue
            x = left + j * cell_px
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_px - 2}" height="{ROW_PX - 2}" '
                f'fill="{colour(value)}"><title>{_esc(row)} {_esc(column)}: '
                f"{_esc(text(value))}</title></rect>"
                f'<text x="{x + cell_px / 2:.0f}" y="{y + 15}" text-anchor="middle" '
                f'fill="#fff">{_esc(text(value))}</text>'
            )
    return _svg(width, height, label, body)


def stars_over_quarters(scores: Sequence[Mapping[str, Any]]) -> str:
    """Stars per department (rows) and quarter (columns), from the department scorecard."""
    departments = sorted({str(s["department"]) for s in scores})
    quarters = sorted({str(s["quarter"]) for s in scores})
    cells = {(str(s["department"]), str(s["quarter"])): int(s["stars"]) for s in scores}
    return grid(
        departments, quarters, cells, lambda n: "★" * n,
        lambda n: STAR_COLOURS.get(n, NEUTRAL), "stars per department and quarter", cell_px=80,
    )  # fmt: skip


DIMENSIONS = (
    ("normativity", "规范性"), ("completeness", "完整性"), ("availability", "可用性"),
    ("timeliness", "时效性"), ("corrections", "纠错整改"),
)  # fmt: skip


def dimensions_per_department(scores: Sequence[Mapping[str, Any]]) -> str:
    """The five dimensions (0-1) per department of one quarter, as percentages."""
    departments = [str(s["department"]) for s in scores]
    cells = {
        (str(s["department"]), title): float(s[key])
        for s in scores
        for key, title in DIMENSIONS
        if s.get(key) is not None
    }
    return grid(
        departments, [title for _, title in DIMENSIONS], cells, lambda v: f"{v:.0%}",
        _share_colour, "quality dimensions per department", cell_px=72,
    )  # fmt: skip


def bars_against_target(
    rows: Sequence[Mapping[str, Any]],
    label: str,
    value: str,
    target: float,
    title: str,
    maximum: float = 1.0,
    fmt: Callable[[float], str] = "{:.1%}".format,
) -> str:
    """Horizontal bars of a value (0 to ``maximum``) per row, green at or above ``target``,
    red below, a dashed line at the target; a row without a value shows '-'."""
    scale = 360
    left = max((text_width(str(r[label])) for r in rows), default=0) + 10
    width = left + scale + 60
    height = ROW_PX * len(rows) + 24
    body = []
    for i, row in enumerate(rows):
        y = ROW_PX * i + 4
        body.append(f'<text x="0" y="{y + 13}">{_esc(row[label])}</text>')
        if row.get(value) is None:
            body.append(f'<text x="{left + 4}" y="{y + 13}">-</text>')
            continue
        number = float(row[value])
        colour = GOOD if number >= target else BAD
        bar = scale * max(0.0, min(1.0, number / maximum))
        body.append(
            f'<rect x="{left}" y="{y}" width="{bar:.0f}" height="16" fill="{colour}"/>'
            f'<text x="{left + bar + 4:.0f}" y="{y + 13}">{_esc(fmt(number))}</text>'
        )
    x = left + scale * target / maximum
    body.append(
        f'<line x1="{x:.0f}" y1="0" x2="{x:.0f}" y2="{height - 16}" stroke="#555" '
        f'stroke-dasharray="4"/><text x="{x:.0f}" y="{height - 3}" text-anchor="middle">'
        f"{_esc(fmt(target))}</text>"
    )
    return _svg(width, height, title, body)


def stacked_bars(
    rows: Sequence[Mapping[str, Any]], group: str, stack: str, value: str, title: str
) -> str:
    """A bar per ``group`` made of its ``stack`` parts (counts), with a legend."""
    groups = sorted({str(r[group]) for r in rows})
    parts = [s for s in STATE_COLOURS if any(r[stack] == s for r in rows)]
    parts += sorted({str(r[stack]) for r in rows} - set(parts))
    totals = {g: sum(int(r[value]) for r in rows if str(r[group]) == g) for g in groups}
    most = max(totals.values(), default=0) or 1
    scale = 360
    left = max((text_width(g) for g in groups), default=0) + 10
    width = left + scale + 60
    height = ROW_PX * (len(groups) + 1) + 8
    body = []
    for i, g in enumerate(groups):
        y = ROW_PX * i + 4
        body.append(f'<text x="0" y="{y + 13}">{_esc(g)}</text>')
        x = float(left)
        for part in parts:
            count = sum(int(r[value]) for r in rows if str(r[group]) == g and r[stack] == part)
            if not count:
                continue
            w = scale * count / most
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="16" '
                f'fill="{STATE_COLOURS.get(part, NEUTRAL)}"><title>{_esc(g)} {_esc(part)}: '
                f"{count}</title></rect>"
            )
            x += w
        body.append(f'<text x="{x + 4:.0f}" y="{y + 13}">{totals[g]}</text>')
    y = ROW_PX * len(groups) + 8
    x = 0
    for part in parts:
        body.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" '
            f'fill="{STATE_COLOURS.get(part, NEUTRAL)}"/>'
            f'<text x="{x + 16}" y="{y + 11}">{_esc(part)}</text>'
        )
        x += 24 + text_width(part)
    return _svg(max(width, x), height + 8, title, body)
