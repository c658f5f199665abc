"""The scorecard's figures are the documented formulas (docs/quality-scorecard.md) applied to
what was delivered: two hand-made register deliveries with a known number of blanks, bad codes,
bad formats, a quarantined row, an extra column and a late arrival, and the exact figures
computed here from those numbers."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from pathlib import Path

import psycopg
import pytest
from ingest_support import reset_ingestion

from mdm import build
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.ingest.run import loaded_ids, profile_deliveries
from mdm.registry import dataset

pytestmark = pytest.mark.integration

CODE = "gat_czrk"  # promised daily: on time within 1 + 1 days of the extract
ROWS = 20
BEIJING = dt.timezone(dt.timedelta(hours=8))
# gat_czrk in the catalogue: 13 of 13 field names conform, 5 of 5 catalogue fields filled.
NAMES_CONFORMING = 13 / 13
CATALOGUE_FILLED = 5 / 5


def _rows(prefix: str) -> list[dict[str, str]]:
    return [
        {
            "RYBH": f"{prefix}{i:03d}",
            "GMSFHM": f"4501021990010{i:03d}"[:17] + "X",
            "XM": f"张{i}",
            "CYM": "",
            "XB": "1",
            "MZ": "01",
            "CSRQ": "19900101",
            "HJDZ_XZQHDM": "450102",
            "HJDZ_QHNXXDZ": "民族大道1号",
            "RYZT": "0",
            "SWRQ": "",
            "GXSJ": "20261101020304",
        }
        for i in range(ROWS)
    ]


def _deliver(
    landing: Path, delivery_id: str, rows: list[dict[str, str]], extract: dt.datetime,
    arrived: dt.datetime, extra: str | None = None,
) -> None:  # fmt: skip
    """A full delivery of the register whose manifest was written into the landing zone at
    ``arrived`` (its mtime: what timeliness measures)."""
    header = dataset(CODE).file_columns("full") + ([extra] if extra else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n", restval="备注")
    writer.writeheader()
    writer.writerows(rows)
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    folder = landing / CODE / delivery_id
    folder.mkdir(parents=True)
    (folder / "part-1.csv").write_bytes(data)
    manifest = {
        "dataset": CODE,
        "delivery_id": delivery_id,
        "mode": "full",
        "encoding": "UTF-8",
        "extract_time": extract.isoformat(),
        "files": [
            {"name": "part-1.csv", "rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}
        ],
    }
    path = folder / "_manifest.json"
    path.write_text(json.dumps(manifest))
    stamp = int(arrived.timestamp()) * 10**9
    os.utime(path, ns=(stamp, stamp))


def test_scorecard_figures_are_the_documented_formulas(tmp_path, settings, warehouse_url):
    reset_ingestion(warehouse_url)
    landing = tmp_path / "landing"
    warehouse = params_from_url(warehouse_url)

    # Delivery A, on the boundary of on time: arrived exactly 1 + 1 days after its extract.
    a = _rows("A")
    for i in (0, 1, 2):
        a[i]["GMSFHM"] = ""  # 3 required ID numbers blank
    a[3]["XM"] = ""  # 1 required name blank
    a[4]["XB"] = a[5]["XB"] = ""  # blanks in optional coded columns: not a bad code
    a[6]["MZ"] = a[7]["RYZT"] = ""
    a[8]["CSRQ"] = a[9]["CYM"] = ""  # blank optional fields: completeness is required ones
    a[10]["XB"] = a[11]["XB"] = "X"  # 2 sexes outside GB/T 2261
    a[12]["MZ"] = "AA"  # 1 ethnicity outside GB 3304
    # Bad formats are data, loaded as delivered (standardised later): not in normativity,
    # which measures code lists only.
    a[13]["GMSFHM"], a[14]["GMSFHM"] = "12345", "45010219900101001Z"
    a[15]["CSRQ"], a[16]["CSRQ"] = "19991340", "notadate"
    extract_a = dt.datetime(2026, 11, 1, 2, 0, tzinfo=BEIJING)
    _deliver(landing, "20261101-01", a, extract_a, extract_a + dt.timedelta(days=2))

    # Delivery B, late by 28 hours (76 h after its extract), one row quarantined (no GXSJ),
    # one required blank among the loaded rows, and one column the standard does not have.
    b = _rows("B")
    b[0]["GXSJ"] = "yesterday"
    b[1]["XM"] = ""
    extract_b = dt.datetime(2026, 11, 2, 2, 0, tzinfo=BEIJING)
    _deliver(landing, "20261102-01", b, extract_b, extract_b + dt.timedelta(hours=76), "BZ")

    report = ingest_file_drops(warehouse, landing, dataset(CODE), "scorecard")
    statuses = [(o.delivery_id, o.status, o.rows_loaded) for o in report.outcomes]
    assert statuses == [
        ("20261101-01", "loaded", ROWS),
        ("20261102-01", "partially_quarantined", ROWS - 1),
    ]
    profile_deliveries(CODE, warehouse, loaded_ids(report))
    build.build_scorecard(settings, warehouse, "scorecard")

    # The figures from the planted numbers. Completeness weighs every column the standard
    # defines (besides the record key and GXSJ, which every loaded row has): the required
    # GMSFHM and XM twice, the eight optional ones once (CYM and SWRQ are blank in every row).
    # Coded: XB, MZ, RYZT (blanks aside).
    loaded_b = ROWS - 1
    weights = 2 * 2 + 8
    completeness_a = (
        2 * (ROWS - 3) / ROWS + 2 * (ROWS - 1) / ROWS  # GMSFHM, XM
        + 0 + (ROWS - 2) / ROWS + (ROWS - 1) / ROWS + (ROWS - 1) / ROWS  # CYM, XB, MZ, CSRQ
        + 1 + 1 + (ROWS - 1) / ROWS + 0  # HJDZ_XZQHDM, HJDZ_QHNXXDZ, RYZT, SWRQ
    ) / weights  # fmt: skip
    completeness_b = (2 * 1 + 2 * (loaded_b - 1) / loaded_b + 0 + 6 * 1 + 0) / weights
    codes_a = ((18 - 2) / 18 + (19 - 1) / 19 + 19 / 19) / 3
    codes_b = 1.0
    with psycopg.connect(warehouse_url) as conn:
        metrics = {
            row[0]: row[1:]
            for row in conn.execute(
                "select delivery_id, completeness, value_normativity, rows_loaded_share, "
                "header_deviations, timely, arrival_lag_hours, quarter "
                "from quality.quality_delivery_metrics where dataset = %s",
                (CODE,),
            )
        }
        card = conn.execute(
            "select deliveries, loaded, rejected, rows_quarantined, normativity, completeness, "
            "availability, timeliness, quality_index, stars "
            "from quality.quality_dataset_scorecard where dataset = %s and quarter = '2026Q4'",
            (CODE,),
        ).fetchone()
        department = conn.execute(
            "select datasets, normativity, completeness, availability, timeliness, "
            "quality_index, stars from quality.quality_department_scorecard "
            "where department = '公安厅' and quarter = '2026Q4'"
        ).fetchone()

    exact = pytest.approx  # the models keep 4 decimals
    a_row, b_row = metrics["20261101-01"], metrics["20261102-01"]
    assert [float(v) for v in a_row[:3]] == exact([completeness_a, codes_a, 1.0], abs=1e-6)
    assert [float(v) for v in b_row[:3]] == exact(
        [completeness_b, codes_b, loaded_b / ROWS], abs=1e-6
    )
    assert (a_row[3], b_row[3]) == (0, 1)  # header deviations: B's extra column
    assert (a_row[4], b_row[4]) == (1, 0)  # A on the boundary is on time, B is late
    assert (float(a_row[5]), float(b_row[5])) == (48.0, 76.0)
    assert (a_row[6], b_row[6]) == ("2026Q4", "2026Q4")

    # The quarter: each figure the mean over its deliveries (loaded ones for the shares).
    identifiers = 1.0  # no identifier problem raised (no correction request)
    normativity = (
        0.4 * (codes_a + codes_b) / 2 + 0.2 * identifiers + 0.2 * NAMES_CONFORMING
        + 0.2 * CATALOGUE_FILLED - 0.02 * 1
    )  # fmt: skip
    completeness = (completeness_a + completeness_b) / 2 * (1 + loaded_b / ROWS) / 2
    # two daily deliveries expected (11-01, 11-02), both came, one on time; no correction
    # request raised, so none is due: corrections 1
    availability, timeliness, corrections = 1.0, 0.5, 1.0
    index = 20 * (normativity + completeness + availability + timeliness + corrections)
    stars = next((s for s, bar in ((5, 90), (4, 80), (3, 70), (2, 60)) if index >= bar), 1)
    assert card[:4] == (2, 2, 0, 1)
    assert [float(v) for v in card[4:8]] == exact(
        [normativity, completeness, availability, timeliness], abs=5e-5
    )
    assert float(card[8]) == exact(index, abs=0.05)
    assert card[9] == stars
    # One dataset of the department delivered this quarter: the department is that dataset.
    assert department[0] == 1
    assert [float(v) for v in department[1:6]] == [float(v) for v in card[4:9]]
    assert department[6] == stars


def test_timeliness_counts_the_deliveries_the_cycle_expects_and_corrections_count(
    tmp_path, settings, warehouse_url
):
    """A daily source that delivered on three of the five days up to the business date scores
    3/5 on timeliness, not 3/3; of its correction requests, those due (answered, or raised more
    than 30 days ago) count, answered within 30 days or not; the identifier problems found
    lower normativity's identifier validity."""
    reset_ingestion(warehouse_url)
    landing = tmp_path / "landing"
    warehouse = params_from_url(warehouse_url)
    for day in (1, 2, 5):  # 11-03 and 11-04 never came
        extract = dt.datetime(2026, 11, day, 2, 0, tzinfo=BEIJING)
        _deliver(landing, f"202611{day:02d}-01", _rows(f"D{day}"), extract, extract)
    report = ingest_file_drops(warehouse, landing, dataset(CODE), "expected")
    profile_deliveries(CODE, warehouse, loaded_ids(report))
    with psycopg.connect(warehouse_url) as conn:
        for request_id, raised, state in (
            ("JC1", "2026-10-01", "confirmed"),  # answered on day 19: within 30 days
            ("JC2", "2026-10-01", "reported"),  # never answered, due since 10-31
            ("JC3", "2026-11-04", "reported"),  # raised yesterday: not due yet
        ):
            conn.execute(
                "insert into correction.request (request_id, dataset, record_key, column_name, "
                "delivered_value, problem, request_type, department, state, raised_on) "
                "values (%s, %s, %s, 'XM', 'x', 'p', 'ID_CHECK', '公安厅', %s, %s)",
                (request_id, CODE, request_id, state, raised),
            )
        conn.execute(
            "insert into correction.request_event (request_id, state_to, reason, "
            "answer_sequence, detail) values ('JC1', 'answered', 'a', 1, %s)",
            (json.dumps({"handled_date": "2026-10-20"}),),
        )
    build.build_scorecard(settings, warehouse, "expected")
    with psycopg.connect(warehouse_url) as conn:
        card = conn.execute(
            "select deliveries, expected_deliveries, timeliness, requests_raised, "
            "requests_answered_30d, requests_confirmed, corrections, identifier_validity "
            "from quality.quality_dataset_scorecard where dataset = %s and quarter = '2026Q4'",
            (CODE,),
        ).fetchone()
    assert card[:2] == (3, 5)
    assert float(card[2]) == pytest.approx(3 / 5)
    assert card[3:6] == (3, 1, 1)
    assert float(card[6]) == pytest.approx(1 / 2)
    # three identifier problems among the 20 records of the largest full delivered
    assert float(card[7]) == pytest.approx(1 - 3 / 20)
