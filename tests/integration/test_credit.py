"""信易贷 (issue 22, ADR 0019) on a small v2 world: the credit profile against the generator's
truth, the evaluation explained line by line and pushed monthly, and a bank that reads, as
its own database user, exactly the enterprises and scopes authorised to it, until the clock
ends an authorisation.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import time

import psycopg
import pytest
from ingest_support import build_world, drop_login_users
from psycopg import errors

from mdm.access.roles import add_user
from mdm.cli import main
from mdm.connections import conninfo, params_from_url
from mdm.credit import banks, explain, profile, push
from mdm.credit.scopes import IDENTITY, SCOPES
from mdm.settings import DBT_PROJECT_DIR
from mdm_tools.credit_eval import FACTS, credit_accuracy

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("credit")
    build_world(settings, warehouse_url, folder, 2000, 23)
    assert main(["credit", "build"]) == 0
    return folder


@pytest.fixture(scope="module")
def bank(world, warehouse_url):
    """The bank with the most live authorisations, registered, and a login user of its own."""
    with psycopg.connect(warehouse_url) as conn:
        bank_uscc, bank_name = conn.execute(
            """select bank_uscc, min(bank_name) from credit.bank_authorisation
               where status = 'granted' and expires_at > now()
               group by bank_uscc order by count(*) desc, bank_uscc limit 1"""
        ).fetchone()
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date().isoformat()
    command = ["credit", "bank-add", "--consumer", "testbank", "--uscc", bank_uscc]
    assert main([*command, "--name", bank_name, "--expires", until]) == 0
    with psycopg.connect(warehouse_url) as conn:
        (grant_id,) = conn.execute(
            "select grant_id from access.share_grant where consumer = 'testbank'"
        ).fetchone()
        user, password = f"t_bank_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
        add_user(conn, user, "mdm_share_testbank", password)
    params = {**params_from_url(warehouse_url), "user": user, "password": password}
    reader = psycopg.connect(conninfo(params), autocommit=True)
    yield {"uscc": bank_uscc, "grant_id": grant_id, "conn": reader}
    reader.close()
    drop_login_users(warehouse_url, [user])


def _authorised(warehouse_url: str, bank_uscc: str) -> dict[str, set[str]]:
    """Legal person -> the scopes of its live authorisations for the bank, as delivered."""
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            """select link.entity_id, auth.scopes
               from staging.stg_xyd_sq__authorisations auth
               join mdm.record_link link on link.dataset = 'xyd_sq'
                                        and link.record_key = auth.record_key
               where auth.bank_uscc = %s and auth.status = 'granted'
                 and auth.valid_until >= (now() at time zone 'Asia/Shanghai')::date""",
            (bank_uscc,),
        ).fetchall()
    found: dict[str, set[str]] = {}
    for entity, scopes in rows:
        found.setdefault(entity, set()).update(s for s in scopes if s in SCOPES)
    return found


def test_profile_facts_equal_the_truth(world, warehouse_url):
    found = credit_accuracy(params_from_url(warehouse_url), world / "truth")
    logger.info("credit profile accuracy %s; differing: %s", found["enterprises"], found["differ"])
    everyone, coded = found["enterprises"], found["all_coded"]
    assert everyone["all"]["checked"] > 150, everyone
    for fact in FACTS:
        assert everyone[fact]["share"] >= 0.99, (fact, everyone[fact], found["differ"])
    assert everyone["all"]["share"] >= 0.99, found
    assert coded["all"]["checked"] > 50, coded
    assert coded["all"]["equal"] == coded["all"]["checked"], (coded, found["differ"])
    # the world has each kind of fact to get right
    with psycopg.connect(warehouse_url) as conn:
        kinds = conn.execute(
            """select count(*) filter (where employees_paying_pension > 0),
                      count(*) filter (where housing_fund_arrears_months > 0),
                      count(*) filter (where utility_arrears_yuan > 0),
                      count(*) filter (where penalties_36m_count > 0),
                      count(*) filter (where dishonest_enterprise or dishonest_legal_rep)
               from credit.enterprise_profile"""
        ).fetchone()
    assert all(n >= 3 for n in kinds), kinds


def test_freshness_flags_a_source_past_its_cycle(world, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        fresh = dict(
            conn.execute(
                "select dataset, is_stale from credit.source_freshness "
                "where last_delivery_at is not null"
            ).fetchall()
        )
        assert {"gjj_dwjc", "xyb_xzcf", "fy_sxbzxr", "rst_cbry"} <= fresh.keys()
        # a daily source whose last delivery is older than a day is stale; the profile says so
        stale = {d for d, s in fresh.items() if s}
        rows = conn.execute(
            "select stale_sources from credit.enterprise_profile where stale_sources <> '{}'"
        ).fetchall()
    assert all(set(r[0]) <= stale for r in rows)
    assert bool(stale) == bool(rows)


def test_every_grade_is_explained_line_by_line(world, warehouse_url, settings, tmp_path):
    with psycopg.connect(warehouse_url) as conn:
        uscc, score, grade = conn.execute(
            "select uscc, score, grade from credit.evaluation e "
            "join credit.enterprise_profile p using (legal_person_id, uscc) "
            "where p.penalties_36m_count > 0 and uscc is not null order by uscc limit 1"
        ).fetchone()
        explained = explain.explain(conn, uscc)
        rules = conn.execute("select count(*) from credit.credit_score_rules").fetchone()[0]
    assert explained is not None
    lines = explained["lines"]
    assert len(lines) == rules
    assert score == explained["base_score"] + sum(x["points"] for x in lines if x["applies"])
    assert explained["evaluation"]["grade"] == grade
    assert any(x["fact"] == "penalties_36m_count" and x["applies"] for x in lines)
    text = explain.format_explanation(explained)
    assert any(grade in line and "score" in line for line in text)
    # the monthly push: a table and a file; a second push of the month is a no-op, a forced
    # one gives the same bytes
    month = dt.date(2026, 12, 1)
    first = push.monthly_push(params_from_url(warehouse_url), tmp_path, "t1", month)
    again = push.monthly_push(params_from_url(warehouse_url), tmp_path, "t2", month)
    forced = push.monthly_push(params_from_url(warehouse_url), tmp_path, "t3", month, force=True)
    assert first["pushed"] and not again["pushed"] and forced["sha256"] == first["sha256"]
    data = (push.push_folder(tmp_path, month) / push.FILE_NAME).read_bytes()
    assert hashlib.sha256(data).hexdigest() == first["sha256"]
    manifest = json.loads((push.push_folder(tmp_path, month) / "_manifest.json").read_text())
    with psycopg.connect(warehouse_url) as conn:
        pushed = conn.execute(
            "select count(*) from credit.monthly_result where month = %s", (month,)
        ).fetchone()[0]
        evaluated = conn.execute("select count(*) from credit.evaluation").fetchone()[0]
    assert manifest["rows"] == pushed == evaluated == len(data.splitlines()) - 1


def test_the_cli_the_demo_and_the_dag(world, warehouse_url, settings, airflow_metadata, capsys):
    """`mdm credit explain` prints every rule line; the demo's block shows a profile; the
    DAG (dag.test) builds the profile and pushes this month once."""
    from mdm.cli.demo import _show_credit_profile
    from mdm.orchestration import run_dag

    with psycopg.connect(warehouse_url) as conn:
        (uscc,) = conn.execute(
            "select min(uscc) from credit.evaluation where uscc is not null"
        ).fetchone()
        rules = conn.execute("select count(*) from credit.credit_score_rules").fetchone()[0]
    capsys.readouterr()
    assert main(["credit", "explain", uscc]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert uscc in printed[0] and sum(1 for x in printed if re.search(r" R\d\d ", x)) == rules
    assert main(["credit", "explain", "91450000NOSUCHCODE"]) == 1
    _show_credit_profile(settings)
    assert "mdm credit explain" in capsys.readouterr().out
    assert main(["evaluate", "--truth", str(world / "truth")]) == 0
    assert "credit profile, all_coded" in capsys.readouterr().out
    outcome = run_dag(settings, "mdm_credit", {"force_push": True})  # pushed above already
    assert outcome.state == "success", outcome
    month = push.current_month()
    with psycopg.connect(warehouse_url) as conn:
        (pushed,) = conn.execute(
            "select count(*) from credit.monthly_push where month = %s", (month,)
        ).fetchone()
    assert pushed == 1
    assert (push.push_folder(settings.home / "outbox", month) / "_manifest.json").exists()


def test_a_bank_reads_exactly_its_authorised_enterprises_and_scopes(world, warehouse_url, bank):
    expected = _authorised(warehouse_url, bank["uscc"])
    assert len(expected) >= 2, expected
    reader = bank["conn"]
    cursor = reader.execute("select * from share.testbank__credit_profile")
    columns = [c.name for c in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert {r["legal_person_id"] for r in rows} == set(expected)
    for row in rows:
        authorised = expected[row["legal_person_id"]]
        assert set(row["authorised_scopes"]) == authorised
        for scope, scope_columns in SCOPES.items():
            values = [row[c] for c in scope_columns if not c.endswith(("_source", "_as_of"))]
            if scope not in authorised:
                assert all(v is None for v in (row[c] for c in scope_columns)), (scope, row)
            elif scope == "JBXX":
                assert any(v is not None for v in values), row
    assert set(IDENTITY) <= set(columns)
    # other enterprises' authorisations (other banks, withdrawn, expired) exist and stay out
    with psycopg.connect(warehouse_url) as conn:
        others = conn.execute(
            "select count(distinct legal_person_id) from credit.bank_authorisation "
            "where not (legal_person_id = any(%s))",
            (list(expected),),
        ).fetchone()[0]
        expired = conn.execute(
            "select count(*) from credit.bank_authorisation where bank_uscc = %s "
            "and (status = 'withdrawn' or expires_at <= now())",
            (bank["uscc"],),
        ).fetchone()[0]
        reads = conn.execute(
            "select count(*), max(row_count) from access.share_read_log where grant_id = %s",
            (bank["grant_id"],),
        ).fetchone()
    assert others >= 3 and expired > 0, (others, expired)
    assert reads == (1, len(rows))
    # nothing else: not the profile, not the repositories, not its own filtered view
    for forbidden in (
        "select * from credit.enterprise_profile limit 1",
        "select * from credit.evaluation limit 1",
        "select * from mdm.legal_person limit 1",
        f"select * from {banks.filtered_view('testbank')} limit 1",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            reader.execute(forbidden)
    # a read rolled back is still logged
    with reader.transaction(force_rollback=True):
        reader.execute("select count(*) from share.testbank__credit_profile").fetchone()
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select count(*) from access.share_read_log where grant_id = %s", (bank["grant_id"],)
        ).fetchone() == (2,)


def test_an_authorisation_ends_by_the_clock(world, warehouse_url, bank):
    """Nobody acts: an authorisation whose end passes between two reads removes its
    enterprise from the second (its end moved to a few seconds from now, as the end of a
    valid-until day would arrive)."""
    reader = bank["conn"]
    with psycopg.connect(warehouse_url) as conn:
        (entity,) = conn.execute(
            """select legal_person_id from credit.bank_authorisation
               where bank_uscc = %s and status = 'granted' and expires_at > now()
               group by legal_person_id having count(*) = 1 order by 1 limit 1""",
            (bank["uscc"],),
        ).fetchone()
        conn.execute(
            "update credit.bank_authorisation set expires_at = clock_timestamp() + interval '2s' "
            "where bank_uscc = %s and legal_person_id = %s",
            (bank["uscc"], entity),
        )
        conn.commit()
    query = "select legal_person_id from share.testbank__credit_profile"
    before = {r[0] for r in reader.execute(query).fetchall()}
    time.sleep(2.5)
    after = {r[0] for r in reader.execute(query).fetchall()}
    assert entity in before and entity not in after
    assert before - after == {entity}


def test_credit_banks_lists_banks_authorisations_and_reads(world, warehouse_url, bank, capsys):
    assert main(["credit", "banks"]) == 0
    assert "share.testbank__credit_profile" in capsys.readouterr().out
    with psycopg.connect(warehouse_url) as conn:
        listed = {b["consumer"]: b for b in banks.list_banks(conn)}
    testbank = listed["testbank"]
    assert testbank["live_authorisations"] >= 2
    assert testbank["grants"][0]["view"] == "share.testbank__credit_profile"
    assert testbank["grants"][0]["reads"] >= 1


def test_a_rebuild_keeps_the_history_and_the_banks_view(world, warehouse_url, settings, bank):
    """dbt recreates the profile (dropping the filtered views that read it); the build makes
    them again, and the bank reads as before. The employment history survives the rebuild,
    and the profile compares its employees with the last build 12 months back."""
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute(
            "select count(*) filter (where employees_compared_with is not null) "
            "from credit.enterprise_profile"
        ).fetchone() == (0,)  # no build a year ago: no change to report
        employer, now = conn.execute(
            "select legal_person_id, employees_paying_pension from credit.enterprise_profile "
            "where employees_paying_pension > 3 order by 1 limit 1"
        ).fetchone()
        conn.execute(
            "insert into credit.employment_history values "
            "(current_date - interval '13 months', %s, %s), "
            "(current_date - interval '14 months', %s, 1)",
            (employer, now - 3, employer),
        )
        days = conn.execute("select count(distinct as_of_date) from credit.employment_history")
        assert days.fetchone() == (3,)
    profile.build_credit(settings, params_from_url(warehouse_url), "credit-again")
    rows = bank["conn"].execute("select legal_person_id from share.testbank__credit_profile")
    assert set(_authorised(warehouse_url, bank["uscc"])) == {r[0] for r in rows.fetchall()}
    with psycopg.connect(warehouse_url) as conn:
        changes = dict(
            conn.execute(
                "select legal_person_id, employees_change_12m from credit.enterprise_profile "
                "where employees_compared_with = (current_date - interval '13 months')::date"
            ).fetchall()
        )
        employees = dict(
            conn.execute(
                "select legal_person_id, employees_paying_pension from credit.enterprise_profile"
            ).fetchall()
        )
    assert changes[employer] == 3
    # an employer absent from that day's history had none then
    assert all(c == employees[e] for e, c in changes.items() if e != employer)
    assert len(changes) == len(employees)


def test_the_bench_entry_times_a_lookup_and_the_push(world, settings):
    from mdm_tools.bench import bench_credit

    timed = bench_credit(settings, lookups=5)
    assert timed["profiles"] > 150 and timed["monthly_push_rows"] == timed["profiles"]
    assert 0 < timed["profile_lookup_ms_median"] < 1000, timed


def test_a_replayed_day_is_judged_on_that_day(world, warehouse_url, capsys):
    """``--as-of`` (``mdm run --date`` passes the replayed day): periods and freshness count
    from the end of that business day, not from the clock, so a replay gives the same
    profile again and a past day's sources are fresh if they were fresh then."""
    with psycopg.connect(warehouse_url) as conn:
        (last_day,) = conn.execute(
            "select max((coalesce(extract_time, high_water_mark at time zone 'Asia/Shanghai',"
            " finished_at) at time zone 'Asia/Shanghai')::date) from ops.delivery"
            " where status in ('loaded', 'partially_quarantined')"
        ).fetchone()

    def freshness() -> dict[str, bool]:
        with psycopg.connect(warehouse_url) as conn:
            days = conn.execute("select distinct as_of_date from credit.enterprise_profile")
            assert days.fetchall() == [(day,)]
            return dict(
                conn.execute(
                    "select dataset, is_stale from credit.source_freshness "
                    "where last_delivery_at is not null"
                ).fetchall()
            )

    day = last_day
    assert main(["credit", "build", "--as-of", day.isoformat()]) == 0
    on_the_day = freshness()
    # independently: stale when older than the promised cycle at the end of that day
    end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), dt.timezone(dt.timedelta(hours=8)))
    with open(DBT_PROJECT_DIR / "seeds" / "dataset_catalogue.csv", encoding="utf-8") as f:
        promised = {r["dataset"]: int(r["promised_days"]) for r in csv.DictReader(f)}
    with psycopg.connect(warehouse_url) as conn:
        last = dict(conn.execute("select dataset, last_delivery_at from credit.source_freshness"))
    expected = {d: end_of_day - last[d] > dt.timedelta(days=promised[d]) for d in on_the_day}
    assert on_the_day == expected
    assert not all(on_the_day.values()), on_the_day  # some sources were fresh that day
    day = last_day + dt.timedelta(days=40)  # past every daily, weekly and monthly cycle
    assert main(["credit", "build", "--as-of", day.isoformat()]) == 0
    later = freshness()
    assert all(later.values()), later
    assert "stale sources: " in capsys.readouterr().out
