"""Analysts must not be able to re-identify a person (issue 16), on a real built world:
what the analyst views show narrows no ID number below thousands of candidates, no raw
person id reaches them, pseudonyms survive an ID number held by two persons, and neither the
stored GX results nor the published quality report carry delivered identifiers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets

import psycopg
import pytest
from ingest_support import build_world, drop_login_users

from mdm import build, report
from mdm.access.masking import id_number_candidates, mobile_candidates
from mdm.access.pseudonyms import pseudonym, pseudonym_key, refresh_pseudonyms
from mdm.access.roles import add_user
from mdm.connections import conninfo, params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.ingest.run import profile_deliveries
from mdm.registry import dataset

pytestmark = pytest.mark.integration

ID_LIKE = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9])")
MOBILE_LIKE = re.compile(r"(?<![0-9])1[0-9]{10}(?![0-9])")


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reident")
    build_world(settings, warehouse_url, folder, 300, 16)
    return folder


@pytest.fixture(scope="module")
def analyst(warehouse_url, world):
    user, password = f"t_analyst_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    with psycopg.connect(warehouse_url) as admin:
        add_user(admin, user, "mdm_analyst", password)
    params = {**params_from_url(warehouse_url), "user": user, "password": password}
    with psycopg.connect(conninfo(params), autocommit=True) as conn:
        yield conn
    drop_login_users(warehouse_url, [user])


def test_no_analyst_row_narrows_an_id_number_or_mobile_below_thousands(analyst):
    rows = analyst.execute(
        "select id_number_masked, birth_year, sex_code, hukou_division_code, mobile_masked "
        "from analyst.natural_person"
    ).fetchall()
    masked = [r for r in rows if r[0]]
    assert len(masked) > 250
    fewest = min(id_number_candidates(*r[:4]) for r in masked)
    assert fewest >= 1000, f"a row leaves only {fewest} candidate ID numbers"
    phones = [r[4] for r in rows if r[4]]
    assert phones and min(mobile_candidates(p) for p in phones) >= 1000


def test_a_person_without_a_pseudonym_is_never_shown_by_person_id(analyst, warehouse_url, settings):
    with psycopg.connect(warehouse_url) as conn:
        person_id, before = conn.execute(
            "select r.from_id, s.pseudonym from mdm.relation r "
            "join access.person_pseudonym s on s.person_id = r.from_id limit 1"
        ).fetchone()
        # Published before refresh_access wrote its pseudonym (or the refresh failed).
        conn.execute("delete from access.person_pseudonym where person_id = %s", (person_id,))
        conn.commit()
        person_ids = {r[0] for r in conn.execute("select person_id from mdm.natural_person")}
    try:
        ends = analyst.execute("select from_key, to_key from analyst.relation").fetchall()
        shown = {key for end in ends for key in end}
        assert not shown & person_ids, "analyst.relation shows raw person ids"
        keys = {
            r[0]
            for r in analyst.execute(
                "select person_key from analyst.natural_person "
                "union all select legal_rep_person_key from analyst.legal_person"
            )
        }
        assert not keys & person_ids
        interim = [k for k in shown if k.startswith("interim-")]
        # One interim key, the same in every view: still joinable and countable.
        assert len(set(interim)) == 1 and interim[0] in keys and person_id not in interim[0]
    finally:
        refresh_pseudonyms(params_from_url(warehouse_url), pseudonym_key(settings.home))
    with psycopg.connect(warehouse_url) as conn:
        after = conn.execute(
            "select pseudonym from access.person_pseudonym where person_id = %s", (person_id,)
        ).fetchone()[0]
    assert after == before  # the refresh gives back the same, stable pseudonym


def test_refresh_completes_when_two_persons_share_an_id_number(warehouse_url, settings):
    warehouse, key = params_from_url(warehouse_url), pseudonym_key(settings.home)
    with psycopg.connect(warehouse_url) as conn:
        holder, id_number, held = conn.execute(
            "select p.person_id, p.id_number, s.pseudonym from mdm.natural_person p "
            "join access.person_pseudonym s using (person_id) "
            "where std.is_valid_id_number(p.id_number) order by 1 limit 1"
        ).fetchone()
        assert held == pseudonym(key, id_number)
        moved = conn.execute(
            "select person_id, id_number from mdm.natural_person "
            "where std.is_valid_id_number(id_number) and person_id <> %s order by 1 limit 1",
            (holder,),
        ).fetchone()
        # A later run publishes a second person with the same ID number (a resolution error),
        # two new persons sharing another one, and a person holding an ID number that an
        # earlier person held when its pseudonym was made (then corrected).
        conn.execute("create temporary table extra as select * from mdm.natural_person where false")
        for new_id, template, number in (
            ("TEST-DUP-1", holder, id_number),
            ("TEST-DUP-2", holder, "450102200001010011"),
            ("TEST-DUP-3", holder, "450102200001010011"),
            ("TEST-DUP-4", moved[0], moved[1]),
        ):
            conn.execute(
                "insert into extra select * from mdm.natural_person where person_id = %s",
                (template,),
            )
            conn.execute(
                "update extra set person_id = %s, id_number = %s where person_id = %s",
                (new_id, number, template),
            )
        conn.execute(
            "update mdm.natural_person set id_number = null where person_id = %s", (moved[0],)
        )
        conn.execute("insert into mdm.natural_person select * from extra")
        conn.commit()
    try:
        assert refresh_pseudonyms(warehouse, key) == 4
        with psycopg.connect(warehouse_url) as conn:
            given = dict(
                conn.execute(
                    "select person_id, pseudonym from access.person_pseudonym "
                    "where person_id like 'TEST-DUP-%%' or person_id = %s",
                    (holder,),
                ).fetchall()
            )
        assert given[holder] == held  # the first holder keeps its pseudonym
        for new_id in ("TEST-DUP-1", "TEST-DUP-2", "TEST-DUP-3", "TEST-DUP-4"):
            assert given[new_id] == pseudonym(key, new_id)
        assert len(set(given.values())) == 5
        assert refresh_pseudonyms(warehouse, key) == 0  # rerun: nothing new, no error
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("delete from mdm.natural_person where person_id like 'TEST-DUP-%'")
            conn.execute(
                "update mdm.natural_person set id_number = %s where person_id = %s",
                (moved[1], moved[0]),
            )
            conn.execute("delete from access.person_pseudonym where person_id like 'TEST-DUP-%'")


BAD_ID = "450102199003071230"  # wrong check character
OTHER_ID = "450102198001011234"
LEGACY_ID = "450102800101123"
MOBILE = "13912345678"


def _deliver_delta(landing, delivery_id: str) -> None:
    """A gat_czrk delta with bad ID numbers, identifiers in coded columns (a department that
    shifted its columns) and a row without its record key (quarantined with its raw line)."""
    spec = dataset("gat_czrk")
    rows = [
        ["LEAK1", BAD_ID, "黄一", "", OTHER_ID, MOBILE, "19900307", "450102", "", "0", "", "", "I"],
        ["LEAK2", LEGACY_ID, "黄二", MOBILE, "1", "01", "19800101", "450102", "", LEGACY_ID, "",
         "", "I"],
        ["", OTHER_ID, "黄三", MOBILE, "2", "01", "19800101", "450102", "", "0", "", "", "I"],
        ["LEAK4", OTHER_ID + "9", "黄四", "", "1", "01", "19800101", "450102", "", "0", "", "",
         "U"],
    ]  # fmt: skip
    for row in rows:
        row[11] = "20301231080000"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(spec.file_columns("delta"))
    writer.writerows(rows)
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    folder = landing / "gat_czrk" / delivery_id
    folder.mkdir(parents=True)
    (folder / "part-1.csv").write_bytes(data)
    manifest = {
        "dataset": "gat_czrk",
        "delivery_id": delivery_id,
        "mode": "delta",
        "encoding": "UTF-8",
        "extract_time": "2030-12-31T08:00:00+08:00",
        "files": [{"name": "part-1.csv", "rows": 4, "sha256": hashlib.sha256(data).hexdigest()}],
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest))


def test_stored_results_and_the_report_carry_no_delivered_identifiers(
    world, warehouse_url, settings, tmp_path
):
    warehouse = params_from_url(warehouse_url)
    _deliver_delta(world / "landing", "20301231-01")
    outcome = ingest_file_drops(warehouse, world / "landing", dataset("gat_czrk"), "leak")
    assert [(o.delivery_id, o.status, o.rows_quarantined) for o in outcome.outcomes] == [
        ("20301231-01", "partially_quarantined", 1)
    ]
    warnings = profile_deliveries("gat_czrk", warehouse, ["20301231-01"])
    assert warnings["20301231-01"]  # the shifted columns are flagged, by share
    build.build_scorecard(settings, warehouse, "leak")
    with psycopg.connect(warehouse_url) as conn:
        stored = conn.execute(
            "select dataset, delivery_id, suite_name, failures::text || result::text "
            "from ops.validation_result"
        ).fetchall()
        kept = conn.execute(
            "select expectation -> 'result' from ops.validation_result, "
            "jsonb_array_elements(result -> 'expectations') as expectation "
            "where delivery_id = '20301231-01' "
            "and expectation ->> 'expectation_type' = 'expect_column_values_to_be_in_set' "
            "and expectation -> 'kwargs' ->> 'column' = 'xb'"
        ).fetchone()[0]
    assert any(r[1] == "20301231-01" for r in stored)
    leaks = [
        (r[0], r[1], r[2], ID_LIKE.findall(r[3]) + MOBILE_LIKE.findall(r[3]))
        for r in stored
        if ID_LIKE.search(r[3]) or MOBILE_LIKE.search(r[3])
    ]
    assert not leaks, f"identifiers stored in ops.validation_result: {leaks[:3]}"
    # What the scorecard needs is still there.
    assert kept["unexpected_count"] == 1 and kept["element_count"] == 3

    text = report.write_report(warehouse, tmp_path / "report").read_text("utf-8")
    assert "part-1.csv" in text and "missing_record_key" in text  # file, line and reason
    found = ID_LIKE.findall(text) + MOBILE_LIKE.findall(text)
    assert not found, f"identifiers in the quality report: {found[:5]}"


def test_migration_0011_strips_unexpected_values_from_results_stored_before_it(warehouse_url):
    from importlib import resources

    old = {
        "success": True,
        "expectations": [
            {
                "expectation_type": "expect_column_values_to_be_in_set",
                "result": {
                    "unexpected_percent": 25.0,
                    "partial_unexpected_list": [OTHER_ID],
                    "partial_unexpected_counts": [{"value": MOBILE, "count": 1}],
                },
            },
            {"expectation_type": "unexpected_rows_expectation", "result": {"observed_value": 0}},
        ],
    }
    migration = (
        resources.files("mdm.db") / "migrations" / "0011_analyst_reidentification.sql"
    ).read_text("utf-8")
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into ops.validation_result (dataset, delivery_id, suite_name, success, "
            "evaluated, failed_critical, failed_warning, result) "
            "values ('gat_czrk', 'before-0011', 'raw.gat_czrk.full.profile', true, 2, 0, 0, %s)",
            (json.dumps(old),),
        )
        conn.execute(migration)  # idempotent: what an existing deployment runs once
        cleaned = conn.execute(
            "select result from ops.validation_result where delivery_id = 'before-0011'"
        ).fetchone()[0]
        conn.execute("delete from ops.validation_result where delivery_id = 'before-0011'")
    assert [e["result"] for e in cleaned["expectations"]] == [
        {"unexpected_percent": 25.0},
        {"observed_value": 0},
    ]
