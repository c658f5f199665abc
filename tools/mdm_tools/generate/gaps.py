"""Gaps in what the departments deliver (issue 21: a scorecard that cannot be gamed).

A world generated with gaps has daily deltas that never came, a front-end table that stopped
changing, a delivery split by city with one prefecture's part absent, and columns delivered
blank. Each gap goes to ``truth/delivery_gaps.json`` so the scorecard's timeliness,
completeness and coverage can be checked against what was planted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from mdm.registry import Dataset

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gaps:
    # (dataset, day): that day's delta never delivered
    dropped_deltas: tuple[tuple[str, int], ...] = ()
    # (front-end table, day): the table is not written after that day (its newest GXSJ stays)
    frozen_frontend: tuple[str, int] | None = None
    # (dataset, day, prefecture): that day's delivery split by city lacks the prefecture's part
    missing_city: tuple[str, int, str] | None = None
    # (dataset, day, column): the column delivered blank in that day's delivery
    blanked: tuple[tuple[str, int, str], ...] = ()

    @classmethod
    def planned(cls, days: int) -> Gaps:
        """The gaps of ``mdm generate --gaps``: a world of at least ten days has all four."""
        if days < 10:
            raise ValueError("--gaps needs a world of at least 10 days")
        return cls(
            dropped_deltas=(("gat_czrk", 5), ("gat_czrk", 6), ("scjgj_qydj", 9)),
            frozen_frontend=("swj_grnsr", days // 2),
            missing_city=("rst_cbry", 8, "450100"),
            blanked=(("rst_cbry", 15, "SJHM"), ("rst_cbry", 22, "DWMC")),
        )


def delivery_day(delivery: Any, start: dt.date) -> int:
    """The world day a generated delivery stands for (its id is ``YYYYMMDD-NN``)."""
    date = dt.datetime.strptime(delivery.delivery_id[:8], "%Y%m%d").date()  # noqa: DTZ007
    return (date - start).days + 1


def apply_file_gaps(
    gaps: Gaps, deliveries: list[Any], start: dt.date, spec_of: Any, rows_of: Any, remake: Any
) -> tuple[list[Any], dict[str, Any]]:
    """The file deliveries with the gaps applied, and their truth. ``rows_of(spec, delivery)``
    gives a delivery's rows per part, ``remake(spec, delivery, parts)`` a delivery of them."""
    truth: dict[str, Any] = {"dropped_deltas": [], "missing_city_parts": [], "blanked_columns": []}
    out = []
    for delivery in deliveries:
        day = delivery_day(delivery, start)
        regular = delivery.defect is None and delivery.dataset != "jcfk"
        if regular and delivery.mode == "delta" and (delivery.dataset, day) in gaps.dropped_deltas:
            truth["dropped_deltas"].append(
                {"dataset": delivery.dataset, "day": day, "delivery_id": delivery.delivery_id}
            )
            continue
        spec: Dataset = spec_of(delivery.dataset)
        if regular and gaps.missing_city and gaps.missing_city[:2] == (delivery.dataset, day):
            prefecture = gaps.missing_city[2]
            parts = rows_of(spec, delivery)
            if prefecture in parts and len(parts) > 1:
                truth["missing_city_parts"].append(
                    {"dataset": delivery.dataset, "delivery_id": delivery.delivery_id,
                     "prefecture": prefecture, "rows": len(parts.pop(prefecture))}
                )  # fmt: skip
                delivery = remake(spec, delivery, parts)
        for code, blank_day, column in gaps.blanked:
            if not regular or (code, blank_day) != (delivery.dataset, day):
                continue
            parts = rows_of(spec, delivery)
            name = next(c for c in spec.column_names if c.lower() == column.lower())
            emptied = sum(1 for rows in parts.values() for row in rows if row.get(name))
            parts = {p: [row | {name: None} for row in rows] for p, rows in parts.items()}
            truth["blanked_columns"].append(
                {"dataset": code, "delivery_id": delivery.delivery_id, "column": name,
                 "values_blanked": emptied}
            )  # fmt: skip
            delivery = remake(spec, delivery, parts)
        out.append(delivery)
    return out, truth


def freeze_day(gaps: Gaps, table: str, day: int) -> int:
    """The day a front-end row changed on ``day`` carries: a frozen table was not written
    after its last day, so a later change shows as of that day (the row stays as it was)."""
    if gaps.frozen_frontend and gaps.frozen_frontend[0] == table:
        return min(day, gaps.frozen_frontend[1])
    return day


def frontend_truth(gaps: Gaps, frontend: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    if not gaps.frozen_frontend:
        return {}
    table, last_day = gaps.frozen_frontend
    newest = max((row["gxsj"] for row in frontend.get(table, [])), default=None)
    return {
        "frozen_frontend": {
            "table": table,
            "last_day": last_day,
            "newest_gxsj": newest.isoformat(sep=" ") if newest else None,
        }
    }


def replace_parts(delivery: Any, fresh: Any) -> Any:
    """``fresh`` (a delivery made of new parts) under the original's id, time and mode."""
    return dataclasses.replace(
        delivery, files=fresh.files, rows=fresh.rows, declared_encoding=fresh.declared_encoding
    )
