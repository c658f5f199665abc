"""A generated 30-day world with gaps (issue 21): daily deltas that never came, a front-end
table frozen half-way, a delivery split by city without one prefecture's part, and columns
delivered blank. The scorecard's timeliness, completeness and coverage are exactly the
figures computed here from the generator's truth and the delivered files, not from the
models' SQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import psycopg
import pytest
from ingest_support import reset_world

from mdm import build, db
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.ingest.frontend import pull_frontend
from mdm.ingest.run import loaded_ids, profile_deliveries
from mdm.registry import Dataset, dataset
from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend
from mdm_tools.generate.gaps import Gaps

pytestmark = pytest.mark.integration

PERSONS, SEED, DAYS = 300, 23, 30
# The file datasets ingested (the cheapest that carry every kind of file gap: the register's
# dropped deltas; insurance's blanked columns and missing city part), the one profiled (GX
# on each delivery is what costs), and two front-end tables: the frozen one and one that
# keeps changing.
FILES = ("gat_czrk", "rst_cbry")
PROFILED = ("rst_cbry",)
FRONTEND = ("swj_grnsr", "swj_dwnsr")
PROMISED_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "continuous": 1}
REQUIRED_WEIGHT = 2  # the scorecard's weight of a required column (optional: 1)
ENCODINGS = {"UTF-8": "utf-8-sig", "GB18030": "gb18030"}


@pytest.fixture(scope="module")
def world(settings, warehouse_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gaps")
    reset_world(settings, warehouse_url)
    summary = generate(
        GenerateConfig(
            persons=PERSONS, orgs=PERSONS // 10, days=DAYS, seed=SEED, gaps=Gaps.planned(DAYS)
        )
    )
    write_all(summary, folder / "landing", folder / "truth")
    frontend_url = db.frontend_url(settings)
    write_frontend(frontend_url, {t: summary.frontend_rows[t] for t in FRONTEND})
    warehouse = params_from_url(warehouse_url)
    for code in FILES:
        report = ingest_file_drops(warehouse, folder / "landing", dataset(code), "gaps")
        assert not report.problems, report.problems
        if code in PROFILED:
            profile_deliveries(code, warehouse, loaded_ids(report))
    frontend = params_from_url(frontend_url)
    for code in FRONTEND:
        assert pull_frontend(warehouse, frontend, dataset(code), "gaps") is not None
        # the next day's pull finds nothing new: recorded with the source's newest GXSJ
        pull_frontend(warehouse, frontend, dataset(code), "gaps-again")
    build.build_scorecard(settings, warehouse, "gaps")
    with psycopg.connect(warehouse_url) as conn:
        cursor = conn.execute(
            "select * from quality.quality_dataset_scorecard where quarter = '2026Q4'"
        )
        names = [c.name for c in cursor.description]
        cards = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
        empty = dict(
            conn.execute(
                "select dataset, detail ->> 'source_newest_gxsj' from ops.delivery_event "
                "where event = 'empty_pull'"
            ).fetchall()
        )
    truth = folder / "truth"
    return {
        "summary": summary,
        "cards": cards,
        "empty_pulls": empty,
        "gaps": json.loads((truth / "delivery_gaps.json").read_text("utf-8")),
        "deliveries": json.loads((truth / "deliveries.json").read_text("utf-8")),
        "landing": folder / "landing",
    }


def _day(delivery_id: str) -> dt.date:
    return dt.datetime.strptime(delivery_id[:8], "%Y%m%d").date()  # noqa: DTZ007


def _rows(spec: Dataset, folder: Path) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of a delivery as delivered, and its part files."""
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    rows: list[dict[str, str]] = []
    for entry in manifest["files"]:
        text = (folder / entry["name"]).read_bytes().decode(ENCODINGS[manifest["encoding"]])
        rows += list(csv.DictReader(io.StringIO(text)))
    return rows, [entry["name"] for entry in manifest["files"]]


def _completeness(spec: Dataset, mode: str, rows: list[dict[str, str]]) -> float:
    """Filled shares over the columns the standard defines, required ones weighing more; the
    record key, GXSJ and CZBS every row has; a delete guarantees only its key."""
    identity = {c.lower() for c in spec.record_key} | {"gxsj", "czbs"}
    live = [r for r in rows if r.get("CZBS") != "D"]
    if not live:
        return 1.0
    weighted = total = 0.0
    for column in spec.columns:
        if column.name.lower() in identity or (mode == "full" and column.delta_only):
            continue
        weight = REQUIRED_WEIGHT if column.required else 1
        filled = sum(1 for r in live if (r.get(column.name) or "").strip())
        weighted += weight * filled / len(live)
        total += weight
    return weighted / total


def _expected_timeliness(world: dict, code: str) -> float:
    spec = dataset(code)
    ours = [d for d in world["deliveries"] if d["dataset"] == code]
    business = max(_day(d["delivery_id"]) for d in world["deliveries"])
    first = min(_day(d["delivery_id"]) for d in ours)
    cycle = spec.cadence.get("delta") or spec.cadence["full"]
    expected = max(1, math.ceil(((business - first).days + 1) / PROMISED_DAYS[cycle]))
    return len(ours) / max(expected, len(ours))  # every delivery arrived two hours after


def test_timeliness_counts_the_deltas_that_never_came(world):
    dropped = {(d["dataset"], d["day"]) for d in world["gaps"]["dropped_deltas"]}
    assert dropped == {("gat_czrk", 5), ("gat_czrk", 6), ("scjgj_qydj", 9)}
    for code in FILES:
        card = world["cards"][code]
        assert float(card["timeliness"]) == pytest.approx(
            _expected_timeliness(world, code), abs=5e-5
        ), code
    assert float(world["cards"]["gat_czrk"]["timeliness"]) == pytest.approx(28 / 30, abs=5e-5)
    assert world["cards"]["gat_czrk"]["expected_deliveries"] == 30


def _fresh_share(rows: list[dict], business: dt.date) -> tuple[float, int]:
    """Days from the table's first change to the business date on which it had changed
    within the last two days (a continuous source's cycle is a day)."""
    changed = sorted({row["gxsj"].date() for row in rows})
    days = [changed[0] + dt.timedelta(days=n) for n in range((business - changed[0]).days + 1)]
    fresh = sum(1 for d in days if (d - max(c for c in changed if c <= d)).days < 2)
    return fresh / len(days), len(days)


def test_a_frozen_frontend_table_counts_against_timeliness(world):
    frozen = world["gaps"]["frozen_frontend"]
    assert frozen["table"] == "swj_grnsr" and frozen["last_day"] == DAYS // 2
    # the empty pull recorded the source's newest GXSJ: the frozen table's last change
    assert world["empty_pulls"]["swj_grnsr"] == frozen["newest_gxsj"]
    business = max(_day(d["delivery_id"]) for d in world["deliveries"])
    for code in FRONTEND:
        share, days = _fresh_share(world["summary"].frontend_rows[code], business)
        card = world["cards"][code]
        assert card["expected_deliveries"] == days, code
        assert float(card["timeliness"]) == pytest.approx(share, abs=5e-5), code
    # frozen on day 15 of 30: stale from two days after its last change to the business date
    newest = dt.date.fromisoformat(frozen["newest_gxsj"][:10])
    stale = (business - newest).days - 1
    assert stale >= 14
    assert float(world["cards"]["swj_grnsr"]["timeliness"]) <= 1 - stale / 31 + 5e-5
    assert float(world["cards"]["swj_grnsr"]["timeliness"]) < float(
        world["cards"]["swj_dwnsr"]["timeliness"]
    )


def test_completeness_weighs_every_column_and_a_missing_city_part(world):
    blanked = {(b["dataset"], b["column"]) for b in world["gaps"]["blanked_columns"]}
    assert blanked == {("rst_cbry", "SJHM"), ("rst_cbry", "DWMC")}
    missing = world["gaps"]["missing_city_parts"]
    assert [(m["dataset"], m["prefecture"]) for m in missing] == [("rst_cbry", "450100")]
    for code in PROFILED:
        spec = dataset(code)
        shares, parts = [], []
        for folder in sorted((world["landing"] / code).iterdir()):
            mode = json.loads((folder / "_manifest.json").read_text("utf-8"))["mode"]
            rows, files = _rows(spec, folder)
            shares.append(_completeness(spec, mode, rows))
            parts.append({f for f in files if f[5:11].isdigit()})
        prefectures = set().union(*parts)
        coverage = (
            sum(len(p) / len(prefectures) for p in parts) / len(parts) if prefectures else 1.0
        )
        card = world["cards"][code]
        assert float(card["coverage"]) == pytest.approx(coverage, abs=5e-5), code
        assert card["rows_quarantined"] == 0, code  # every delivered row loaded
        expected = sum(shares) / len(shares) * 1.0 * coverage
        assert float(card["completeness"]) == pytest.approx(expected, abs=5e-5), code
    # the missing city: 13 of 14 prefectures in one of five weekly fulls
    assert float(world["cards"]["rst_cbry"]["coverage"]) == pytest.approx(
        (4 + 13 / 14) / 5, abs=5e-5
    )
    assert float(world["cards"]["gat_czrk"]["coverage"]) == 1  # not split by city
    # the blanked columns: the weeks without them are the more complete
    assert world["cards"]["rst_cbry"]["completeness"] < world["cards"]["rst_cbry"]["coverage"]
