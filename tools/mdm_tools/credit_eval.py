"""The credit profile (schema credit) against the generator's truth (issue 22).

Each published legal person is the true organisation most of its records belong to (as in
``mdm evaluate``); its profile facts (paying employees, housing-fund and utility arrears,
penalties within their publication period and not repaired, dishonest flags) are compared
with ``truth/credit_profile.csv`` and ``truth/credit_penalties.csv``, counted at the profile's
own as-of date. Reported for all enterprises and for those whose records all carry codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.resolve.compare import predicted
from mdm_tools.evaluate import only_resolved, read_truth, true_entities

logger = logging.getLogger(__name__)

FACTS = (
    "paying_employees", "housing_fund_arrears_months", "utility_arrears_yuan",
    "penalties_in_period", "dishonest_enterprise", "dishonest_legal_rep",
)  # fmt: skip
PROFILE_COLUMNS = {
    "paying_employees": "employees_paying_pension",
    "housing_fund_arrears_months": "housing_fund_arrears_months",
    "utility_arrears_yuan": "utility_arrears_yuan",
    "penalties_in_period": "penalties_36m_count",
    "dishonest_enterprise": "dishonest_enterprise",
    "dishonest_legal_rep": "dishonest_legal_rep",
}


def read_profile_truth(truth_dir: Path) -> dict[str, dict[str, str]]:
    with open(truth_dir / "credit_profile.csv", encoding="utf-8") as handle:
        return {row["organisation_id"]: row for row in csv.DictReader(handle)}


def read_penalty_truth(truth_dir: Path) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Organisation -> (decided, publish until) of each of its live penalties."""
    found: dict[str, list[tuple[dt.date, dt.date]]] = {}
    with open(truth_dir / "credit_penalties.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["organisation_id"], []).append(
                (dt.date.fromisoformat(row["decided"]), dt.date.fromisoformat(row["publish_until"]))
            )
    return found


def months_back(day: dt.date, months: int) -> dt.date:
    """``day`` minus whole months, as PostgreSQL's ``date - interval 'N months'``."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def expected_facts(
    truth: dict[str, str], penalties: list[tuple[dt.date, dt.date]], as_of: dt.date
) -> dict[str, Any]:
    """One organisation's facts as the profile must show them on ``as_of`` (pure)."""
    start = months_back(as_of, 36)
    return {
        "paying_employees": int(truth["paying_employees"]),
        "housing_fund_arrears_months": int(truth["housing_fund_arrears_months"])
        if truth["housing_fund_arrears_months"]
        else None,
        "utility_arrears_yuan": Decimal(truth["utility_arrears_yuan"])
        if truth["utility_arrears_yuan"]
        else None,
        "penalties_in_period": sum(
            1 for decided, until in penalties if until >= as_of and decided >= start
        ),
        "dishonest_enterprise": truth["dishonest_enterprise"] == "1",
        "dishonest_legal_rep": truth["dishonest_legal_rep"] == "1",
    }


def compare(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Per fact and over all facts: enterprises checked, equal, share equal (pure)."""
    result: dict[str, Any] = {}
    for fact in (*FACTS, "all"):
        names = FACTS if fact == "all" else (fact,)
        equal = sum(
            all(expected[e][f] == actual[e][f] for f in names) for e in expected if e in actual
        )
        checked = sum(1 for e in expected if e in actual)
        result[fact] = {
            "checked": checked,
            "equal": equal,
            "share": round(equal / checked, 5) if checked else None,
        }
    return result


def credit_accuracy(warehouse: ConnParams, truth_dir: Path) -> dict[str, Any]:
    """Profile facts against the truth, for all enterprises and the all-coded ones."""
    profile_truth = read_profile_truth(truth_dir)
    penalties = read_penalty_truth(truth_dir)
    with psycopg.connect(conninfo(warehouse)) as conn:
        truth, _ = only_resolved(conn, read_truth(truth_dir))
        _, true_org = true_entities(predicted(conn), truth)
        columns = ", ".join(PROFILE_COLUMNS.values())
        rows = conn.execute(
            f"select legal_person_id, as_of_date, {columns} from credit.enterprise_profile"  # noqa: S608
        ).fetchall()
    expected: dict[str, dict[str, Any]] = {}
    actual: dict[str, dict[str, Any]] = {}
    coded: set[str] = set()
    for legal_person_id, as_of, *values in rows:
        oid = true_org.get(legal_person_id)
        if oid not in profile_truth:
            continue  # not an organisation of the world (an institution), or unresolved
        facts = expected_facts(profile_truth[oid], penalties.get(oid, []), as_of)
        expected[legal_person_id] = facts
        actual[legal_person_id] = dict(zip(FACTS, values, strict=True))
        if profile_truth[oid]["all_coded"] == "1":
            coded.add(legal_person_id)
    differ = [  # as text: the report is written as JSON
        (
            e,
            {
                f: (str(expected[e][f]), str(actual[e][f]))
                for f in FACTS
                if expected[e][f] != actual[e][f]
            },
        )
        for e in sorted(expected)
        if expected[e] != actual[e]
    ]
    return {
        "enterprises": compare(expected, actual),
        "all_coded": compare({e: expected[e] for e in coded}, actual),
        "differ": differ[:20],
    }
