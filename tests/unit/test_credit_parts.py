"""信易贷 pure parts: scopes cover the profile, a bank's view SQL, the rules seed, the truth
arithmetic, the push file and the explanation text (issue 22)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from mdm.credit import banks, explain, push
from mdm.credit.scopes import AUTHORISATION, IDENTITY, SCOPES, bank_columns, scope_of
from mdm.settings import DBT_PROJECT_DIR
from mdm_tools.credit_eval import compare, expected_facts, months_back

pytestmark = pytest.mark.unit

CREDIT = DBT_PROJECT_DIR / "models" / "credit"


def _profile_columns() -> list[str]:
    models = yaml.safe_load((CREDIT / "_credit__models.yml").read_text(encoding="utf-8"))
    profile = next(m for m in models["models"] if m["name"] == "enterprise_profile")
    return [c["name"] for c in profile["columns"]]


def test_every_profile_column_is_identity_or_in_exactly_one_scope():
    columns = _profile_columns()
    for column in columns:
        owners = [s for s, cs in SCOPES.items() if column in cs]
        assert len(owners) + (column in IDENTITY) == 1, column
        scope_of(column)  # raises for a column of no scope
    assert set(bank_columns()) == set(columns) | set(AUTHORISATION)
    assert list(SCOPES) == ["JBXX", "NSXX", "SBXX", "GJJ", "SDQ", "SFXX"]  # standard 4.18
    with pytest.raises(KeyError):
        scope_of("a_new_fact")


def test_a_banks_view_filters_by_the_clock_and_opens_columns_by_scope():
    text = banks.view_statement("icbc", "91450000MA5K000000").as_string(None)
    assert "clock_timestamp()" in text and "'91450000MA5K000000'" in text
    assert "mdm.bank_credit_profile__icbc" in text.replace('"', "")
    for scope, columns in SCOPES.items():
        for column in columns:
            assert re.search(
                rf"when '{scope}' = any\(live\.scopes\) then profile\.\"?{column}", text
            )
    with pytest.raises(ValueError):
        banks.filtered_view("ICBC; drop table x")


def test_the_rules_seed_reads_facts_the_evaluation_has():
    seeds = DBT_PROJECT_DIR / "seeds" / "credit"
    rules = list(csv.DictReader((seeds / "credit_score_rules.csv").open(encoding="utf-8")))
    grades = list(csv.DictReader((seeds / "credit_grades.csv").open(encoding="utf-8")))
    lines_sql = (CREDIT / "evaluation_line.sql").read_text(encoding="utf-8")
    facts = set(re.findall(r"\('([a-z0-9_]+)', profile\.", lines_sql))
    assert {r["fact"] for r in rules} <= facts
    assert len({r["rule_id"] for r in rules}) == len(rules)
    assert all(r["reason"].strip() and int(r["points"]) != 0 for r in rules)
    assert {r["rules_version"] for r in rules} <= {g["rules_version"] for g in grades}
    assert all(r["fact"] in _profile_columns() for r in rules)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 12, 2), 36, dt.date(2023, 12, 2)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 30), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 15), 12, dt.date(2025, 1, 15)),
    ],
)
def test_months_back_is_postgres_date_minus_months(day, months, expected):
    assert months_back(day, months) == expected


def test_expected_facts_count_penalties_in_their_period_on_the_profiles_day():
    truth = {
        "paying_employees": "3", "housing_fund_arrears_months": "", "utility_arrears_yuan": "12.50",
        "dishonest_enterprise": "0", "dishonest_legal_rep": "1",
    }  # fmt: skip
    penalties = [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 2)),  # ends today: still published
        (dt.date(2026, 1, 1), dt.date(2026, 12, 1)),  # ended yesterday
        (dt.date(2023, 12, 1), dt.date(2027, 1, 1)),  # decided 36 months and a day ago
    ]
    facts = expected_facts(truth, penalties, dt.date(2026, 12, 2))
    assert facts == {
        "paying_employees": 3, "housing_fund_arrears_months": None,
        "utility_arrears_yuan": Decimal("12.50"), "penalties_in_period": 1,
        "dishonest_enterprise": False, "dishonest_legal_rep": True,
    }  # fmt: skip
    actual = {"L1": dict(facts), "L2": dict(facts, penalties_in_period=0)}
    result = compare({"L1": facts, "L2": facts}, actual)
    assert result["all"] == {"checked": 2, "equal": 1, "share": 0.5}
    assert result["paying_employees"]["share"] == 1.0


def test_the_push_file_and_month():
    rows = [("L1", "9145", "甲公司", 80, "B", "2026.12", dt.date(2026, 12, 2), ["gjj_dwjc"])]
    data = push.render_csv(rows).decode("utf-8").splitlines()
    assert data[0].split(",") == push.COLUMNS
    assert data[1] == "L1,9145,甲公司,80,B,2026.12,2026-12-02,gjj_dwjc"
    late_utc = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 December in Beijing
    assert push.current_month(late_utc) == dt.date(2026, 12, 1)
    assert push.push_folder(Path("/o"), dt.date(2026, 12, 1)) == Path("/o/credit/202612")


def test_the_explanation_shows_every_rule_and_marks_stale_sources():
    profile = {c: None for c in _profile_columns()}
    profile |= {
        "legal_person_id": "L1", "uscc": "9145", "name": "甲公司", "as_of_date": "2026-12-02",
        "stale_sources": ["gjj_dwjc"], "housing_fund_source": "gjj_dwjc",
        "housing_fund_arrears_months": 4, "registration_source": "scjgj_qydj",
    }  # fmt: skip
    lines = [
        {"rule_id": "R11", "fact": "housing_fund_arrears_months", "value": "4",
         "source_stale": True, "applies": False, "operator": "=", "threshold": "0",
         "points": 5, "reason": "paid up"},
        {"rule_id": "R12", "fact": "housing_fund_arrears_months", "value": "4",
         "source_stale": True, "applies": True, "operator": ">=", "threshold": "3",
         "points": -15, "reason": "in arrears"},
    ]  # fmt: skip
    text = explain.format_explanation(
        {
            "profile": profile,
            "evaluation": {"score": 45, "grade": "D", "rules_version": "v"},
            "base_score": 60,
            "lines": lines,
        }  # fmt: skip
    )
    assert any(line.startswith("[GJJ] from gjj_dwjc") and "STALE" in line for line in text)
    assert any("-15 R12" in line and "(stale source)" in line for line in text)
    assert any(". R11" in line for line in text)
    assert any("score 45 = base 60" in line and "grade D" in line for line in text)
