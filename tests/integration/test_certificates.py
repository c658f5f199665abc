"""The certificate repository and the structured aggregation rate (issue 20, ADR 0018),
against the generator's truth on a small world (generate, ingest, resolve, link, build,
publish, scorecard).

The issue's targets: the rate per type and prefecture equals the truth exactly; matching
precision 1.0 for certificates with ``ywlsh``, >= 0.995 without, recall >= 0.98 without
(``mdm evaluate``'s certificates section). Then what uses them: the published repository
and its analysts' view, the holder's list with its read log, the failures the correction
loop turns into requests, the report's section.
"""

from __future__ import annotations

import logging

import psycopg
import pytest
from ingest_support import build_world
from psycopg.rows import dict_row

from mdm import build
from mdm.certificates import holder_certificates, rates, types_below_target
from mdm.connections import params_from_url
from mdm_tools.evaluate import evaluate
from mdm_tools.generate.noise import NoiseRates

pytestmark = pytest.mark.integration
logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("certificates")
    # the library's gaps at 1.5 times the generator's proportions: types fall below 80%
    build_world(settings, warehouse_url, folder, 2000, 29, rates=NoiseRates(certificate_gaps=1.5))
    build.build_scorecard(settings, params_from_url(warehouse_url), "certificates")
    return folder


@pytest.fixture(scope="module")
def found(world, warehouse_url):
    certificates = evaluate(params_from_url(warehouse_url), world / "truth")["certificates"]
    logger.info("certificates against the truth: %s", certificates)
    return certificates


def test_the_rate_per_type_and_prefecture_is_the_truths(found):
    rates_found = found["rates"]
    assert rates_found["cells"] > 40, rates_found
    # every expected certificate has the truth's prefecture and structured or not: so every
    # cell is the truth's (not within a tolerance)
    assert found["outcomes"]["classes"] == {}, found["outcomes"]
    assert rates_found["equal"] == rates_found["cells"], rates_found["differences"]
    # the planted gaps put some types below 80% and leave others above
    by_type = rates_found["by_type"]
    assert len(by_type) == 8, by_type
    assert {r["rate"] >= 0.8 for r in by_type.values()} == {True, False}, by_type


def test_certificates_match_their_business_record(found):
    with_ywlsh, without = found["with_ywlsh"], found["without_ywlsh"]
    assert with_ywlsh["certificates"] > 300 and without["certificates"] > 300, found
    assert with_ywlsh["precision"] == 1.0, with_ywlsh
    assert without["precision"] >= 0.995, without
    assert without["recall"] >= 0.98, without
    assert found["orphans"]["true"] > 10
    assert found["orphans"]["kept_unmatched"] == found["orphans"]["true"], found["orphans"]
    twice = found["duplicates"]
    assert twice["true"] > 5 and twice["recognised"] == twice["true"] == twice["found"], twice


def test_the_repository_is_published_and_masked_for_analysts(world, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        rows, holders, methods, structured = conn.execute(
            """select count(*), count(*) filter (where holder_kind is not null),
                      count(distinct match_method), count(*) filter (where is_structured)
               from mdm.certificate"""
        ).fetchone()
        (in_library,) = conn.execute(
            "select count(*) from staging.stg_dzzz_zzxx__certificates"
        ).fetchone()
        assert rows == in_library  # every library certificate, orphans included
        assert holders >= 0.97 * rows and methods >= 3 and 0.5 * rows < structured < rows
        # a person's certificate shows the holder's pseudonym, never the person id or name
        person_ids = {r[0] for r in conn.execute("select person_id from mdm.natural_person")}
        (shown,) = conn.execute(
            "select count(*) from analyst.certificate where holder_kind = 'person' "
            "and (holder_name is not null or certificate_number is not null)"
        ).fetchone()
        keys = {r[0] for r in conn.execute("select holder_person_key from analyst.certificate")}
        assert shown == 0 and not keys & person_ids and len(keys) > 100


def test_a_holders_list_is_logged_with_who_asked(world, warehouse_url):
    warehouse = params_from_url(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        id_number, person_id, valid = conn.execute(
            """select holder_code, holder_person_id, count(*) from mdm.certificate
               where holder_kind = 'person' and status = 'valid' and duplicate_of is null
               group by 1, 2 order by 3 desc, 1 limit 1"""
        ).fetchone()
        (credit_code,) = conn.execute(
            "select holder_code from mdm.certificate where certificate_type = 'YYZZ' "
            "and status = 'valid' order by 1 limit 1"
        ).fetchone()
    by_number = holder_certificates(warehouse, id_number.lower(), "counter 7", "亮证")
    assert by_number["holder_id"] == person_id and len(by_number["certificates"]) == valid
    by_id = holder_certificates(warehouse, person_id, "counter 7")
    assert by_id["certificates"] == by_number["certificates"]
    organisation = holder_certificates(warehouse, credit_code, "bank app")
    assert organisation["holder_kind"] == "legal_person"
    assert {c["certificate_type"] for c in organisation["certificates"]} >= {"YYZZ"}
    assert holder_certificates(warehouse, "nobody", "counter 7")["certificates"] == []
    with psycopg.connect(warehouse_url) as conn:
        log = conn.execute(
            "select asked_by, query_kind, holder_id, row_count from access.certificate_read_log "
            "order by read_id"
        ).fetchall()
        assert log[-4:] == [
            ("counter 7", "id_number", person_id, valid),
            ("counter 7", "person_id", person_id, valid),
            ("bank app", "credit_code", organisation["holder_id"],
             len(organisation["certificates"])),
            ("counter 7", "unknown", None, 0),
        ]  # fmt: skip
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute("delete from access.certificate_read_log")


def test_failures_name_the_department_and_the_request(world, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        failures = conn.execute(
            """select problem, request_type, count(*), count(department),
                      count(*) filter (where problem in ('disagrees', 'malformed')
                                       and expected_value is null)
               from intermediate.certificate_check_failures group by 1, 2"""
        ).fetchall()
        kinds = {(problem, request) for problem, request, *_ in failures}
        assert {("missing", "MISSING_REQUIRED"), ("layout_only", "MISSING_REQUIRED"),
                ("disagrees", "SOURCE_CONFLICT"),
                ("never_aggregated", "MISSING_REQUIRED")} <= kinds, kinds  # fmt: skip
        assert all(total == departments for _, _, total, departments, _ in failures), failures
        assert sum(unexplained for *_, unexplained in failures) == 0, failures
        # every certificate failing the check is in the repository with the same request
        (disagreeing,) = conn.execute(
            """select count(*) from (select distinct record_key from
                   intermediate.certificate_check_failures where dataset = 'dzzz_zzxx') f
               join mdm.certificate c on c.certificate_id = f.record_key
               where c.is_structured or c.correction_request_type is null
                  or c.correction_department is null"""
        ).fetchone()
        assert disagreeing == 0


def test_the_rate_table_and_the_report_section(world, warehouse_url, settings, tmp_path):
    from mdm import report

    warehouse = params_from_url(warehouse_url)
    quarter, rows = rates(warehouse)
    assert quarter and {r["prefecture_code"] for r in rows} >= {"450000", "450100"}
    with psycopg.connect(warehouse_url) as conn, conn.cursor(row_factory=dict_row) as cur:
        below = types_below_target(cur, quarter)
    assert below and all(r["main_reasons"] for r in below)
    page = report.write_report(warehouse, tmp_path, quarter).read_text("utf-8")
    assert "Types below target" in page
    for row in below:
        assert row["certificate_type"] in page and row["main_reasons"].split(" (")[0] in page


def test_the_command_prints_the_rate_table_and_a_holders_list(world, warehouse_url, capsys):
    from mdm.cli import main

    quarter, rows = rates(params_from_url(warehouse_url))
    assert main(["certificates", "--quarter", quarter, "--province"]) == 0
    printed = capsys.readouterr().out
    assert f"{quarter} (target 80%)" in printed
    for row in rows:
        if row["prefecture_code"] == "450000":
            assert row["certificate_type"] in printed
    with psycopg.connect(warehouse_url) as conn:
        (credit_code,) = conn.execute(
            "select holder_code from mdm.certificate where certificate_type = 'YYZZ' "
            "and status = 'valid' and holder_code is not null order by 1 desc limit 1"
        ).fetchone()
    assert main(["certificates", "--holder", credit_code, "--asked-by", "window 2"]) == 0
    assert "YYZZ" in capsys.readouterr().out
    assert main(["certificates", "--holder", "张三"]) == 1
