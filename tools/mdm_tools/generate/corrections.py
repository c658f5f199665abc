"""Departments' answers to the platform's correction requests (standard 6.1, 4.19 ``jcfk``).

The requests are read from the platform's outbox
(``<outbox>/<dataset>/<YYYYMMDD-NN>/corrections.csv``, complete folders only). A request
raised on ``TCRQ`` is answered on a later simulated day: corrected at the source (``1``) or
rejected (``2``), some of them twice; for some corrected ones the corrected value (the
request's ``JYZ``) arrives in a delivery of the dataset on the day after the answer. A
request raised after the last simulated day is not answered in this run.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from mdm_tools.generate.world import World, stream

logger = logging.getLogger(__name__)

ANSWER_COLUMNS = (
    "jcbh", "fkxh", "dataset", "record_key", "column", "cljg", "clrq", "corrected_in",
)  # fmt: skip
NOT_ANSWERED, REJECTED, ANSWERED_TWICE, VALUE_DELIVERED = 0.15, 0.35, 0.15, 0.6
EXPLANATIONS = {
    "1": ("已核实并在源系统更正", "已按建议值更正", "已转业务处室更正"),
    "2": ("经核实原值正确", "与原始档案一致,不予更正", "证件信息已现场核验"),
}


@dataclass(frozen=True)
class Request:
    jcbh: str
    dataset: str
    record_key: str  # JLBS as delivered (may carry #ROLE)
    column: str
    suggested: str  # JYZ, empty when none is known
    raised: dt.date


@dataclass(frozen=True)
class Answer:
    request: Request
    fkxh: int
    cljg: str
    day: int
    deliver_value: bool  # the corrected value arrives on day + 1


def _date(text: str) -> dt.date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text[:10] if "-" in text else text[:8], fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


def read_requests(outbox: Path | None) -> list[Request]:
    """The requests of every complete outbox folder, once per ``JCBH`` (re-sends are the same
    request; the first raising date counts)."""
    if outbox is None or not outbox.is_dir():
        return []
    found: dict[str, Request] = {}
    for path in sorted(outbox.glob("*/*/corrections.csv")):
        if not (path.parent / "_manifest.json").exists():
            continue  # still being written
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                raised = _date(row.get("TCRQ") or "")
                if not row.get("JCBH") or raised is None:
                    logger.warning("%s: request without JCBH or TCRQ skipped: %s", path, row)
                    continue
                request = Request(
                    row["JCBH"], row.get("SJJ") or path.parent.parent.name,
                    row.get("JLBS") or "", row.get("ZDM") or "", row.get("JYZ") or "", raised,
                )  # fmt: skip
                if request.jcbh not in found or raised < found[request.jcbh].raised:
                    found[request.jcbh] = request
    return sorted(found.values(), key=lambda r: r.jcbh)


def plan_answers(world: World, requests: list[Request], days: int) -> list[Answer]:
    """Each request's answers, on simulated days after it was raised (never day one)."""
    answers = []
    for request in requests:
        rng = stream(world.seed, "jcfk", request.jcbh)
        draw = rng.random()
        if draw < NOT_ANSWERED:
            continue
        cljg = "2" if draw < NOT_ANSWERED + REJECTED else "1"
        after = request.raised + dt.timedelta(days=rng.randint(0, 1))
        day = next((d for d in range(2, days + 1) if world.day_date(d) > after), None)
        if day is None:
            continue
        twice = rng.random() < ANSWERED_TWICE
        deliver = rng.random() < VALUE_DELIVERED and bool(request.suggested)
        if twice and day < days:  # rejected first, corrected after review (or confirmed again)
            answers.append(Answer(request, 1, cljg, day, deliver and cljg == "1"))
            answers.append(Answer(request, 2, "1", day + 1, deliver and cljg == "2"))
        else:
            answers.append(Answer(request, 1, cljg, day, deliver and cljg == "1"))
    return answers


def jcfk_row(world: World, answer: Answer) -> dict[str, str]:
    rng = stream(world.seed, "jcfk-row", answer.request.jcbh, answer.fkxh)
    date = world.day_date(answer.day)
    stamp = dt.datetime.combine(date - dt.timedelta(days=1), dt.time(9)) + dt.timedelta(
        seconds=rng.randint(0, 9 * 3600)
    )
    return {
        "JCBH": answer.request.jcbh,
        "FKXH": str(answer.fkxh),
        "SJJ": answer.request.dataset,
        "CLJG": answer.cljg,
        "CLSM": rng.choice(EXPLANATIONS[answer.cljg]),
        "CLRQ": (date - dt.timedelta(days=1)).isoformat(),
        "GXSJ": stamp.strftime("%Y-%m-%d %H:%M:%S"),
    }
