"""公共数据开放 and the graded catalogue (issue 23, ADR 0023) on a small published world: the
catalogue covers every published table and column; the open publication holds no person's
identifier anywhere in its bytes, no count below 10 and no suppressed cell an attacker can
solve for; its record resources equal the generator's truth; a dataset marked 不予开放
never appears; the manifest's checksums are the files'.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from ingest_support import build_world

from mdm.catalogue import NOT_OPEN, static_resources
from mdm.catalogue.store import current, export
from mdm.opendata.publish import AGE_BANDS, TOTAL, _is_id_number, open_root, publish
from mdm.orchestration import run_dag
from mdm_tools.disclosure import recoverable

pytestmark = pytest.mark.integration
MARKET_KINDS = {"enterprise", "branch", "individual_business", "cooperative"}


@pytest.fixture(scope="module")
def world(settings, warehouse_url, airflow_metadata, tmp_path_factory):
    """A small published world, then DAG mdm_open as the scheduler runs it (dag.test)."""
    folder = tmp_path_factory.mktemp("open")
    summary, _ = build_world(settings, warehouse_url, folder, 1000, 31)
    outcome = run_dag(settings, "mdm_open")
    assert outcome.task_states == {"publish_open": "success"}
    with psycopg.connect(warehouse_url) as conn:
        version, where, produced, withheld = conn.execute(
            """select version, folder, resources, withheld from ops.open_publication
               order by publication_id desc limit 1"""
        ).fetchone()
    assert Path(where).parent == open_root(settings)
    return summary, {"version": version, "folder": where, "resources": produced,
                     "withheld": withheld}  # fmt: skip


def _csv(folder, code: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with open(folder / code / "data.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _resource(key: str):  # type: ignore[no-untyped-def]
    return next(r for r in static_resources() if r.kind == "open" and r.key == key)


def test_the_catalogue_covers_every_published_table_and_column(world, warehouse_url, tmp_path):
    with psycopg.connect(warehouse_url) as conn:
        published = conn.execute(
            """select table_schema || '.' || table_name, column_name from information_schema.columns
               where table_schema in ('mdm', 'analyst', 'open', 'share')"""
        ).fetchall()
        catalogue = current(conn)
        folder = export(conn, tmp_path)
    described = {(r.relation, f.name) for r in catalogue for f in r.fields}
    # a bank's filtered profile (schema mdm, ADR 0019) is described by the share that reads it
    described |= {
        (r.extra["reads"], f.name) for r in catalogue if r.kind == "share" for f in r.fields
    }
    missing = sorted(c for c in published if c not in described)
    tables = {t for t, _ in published}
    assert {
        "mdm.natural_person",
        "analyst.natural_person",
        "open.enterprise_registration",
    } <= tables
    assert missing == [], f"published columns without a catalogue entry: {missing[:20]}"
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        assert hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    exported = json.loads((folder / "catalogue.json").read_text("utf-8"))
    assert {r["kind"] for r in exported} >= {"source", "repository", "analyst", "open"}


def test_no_identifier_of_a_person_in_any_open_byte(world, warehouse_url):
    _, result = world
    with psycopg.connect(warehouse_url) as conn:
        # every delivered value the catalogue grades 4 in a person's dataset or column, and the
        # repository's own: ID numbers, passports, mobiles
        identifiers = {
            v
            for (v,) in conn.execute(
                """select id_number from mdm.natural_person
                   union select mobile from mdm.natural_person
                   union select upper(btrim(nan_zjhm)) from raw.mzt_hydj
                   union select upper(btrim(nv_zjhm)) from raw.mzt_hydj
                   union select upper(btrim(sfzjhm)) from raw.swj_grnsr
                   union select btrim(lxdh) from raw.swj_grnsr
                   union select btrim(sjhm) from raw.rst_cbry
                   union select upper(btrim(zjhm)) from raw.xyb_xzcf
                   union select 'operator:' || upper(btrim(xdrdm)) from raw.xyb_xzcf
                         where btrim(xdrlb) = '3'
                   union select upper(btrim(zjhm)) from raw.fy_sxbzxr where btrim(bzxrlx) = '1'"""
            ).fetchall()
            if v and len(re.sub(r"\W", "", v)) >= 8
        }
    # an individual business's code is its credit code, or else its operator's ID number
    operators = {v for v in identifiers if v.startswith("operator:")}
    identifiers -= operators
    identifiers |= {v[9:] for v in operators if _is_id_number(v[9:])}
    assert len(identifiers) > 1000
    lengths = sorted({len(i) for i in identifiers})
    folder = Path(result["folder"])
    files = [p for p in folder.rglob("*") if p.is_file()]  # data, metadata, portal, manifest
    assert len([p for p in files if p.name.startswith("data.")]) == 2 * len(result["resources"])
    found = []
    for path in files:
        text = path.read_bytes().decode("utf-8")
        for run in re.findall(r"[0-9A-Za-z]+", text):  # every window of every alphanumeric run
            run = run.upper()
            for n in lengths:
                found += [
                    (path.name, run[i : i + n])
                    for i in range(len(run) - n + 1)
                    if run[i : i + n] in identifiers
                ]
    assert found == []


def test_statistics_release_no_small_count_and_nothing_solvable(world):
    _, result = world
    folder = Path(result["folder"])
    population = _csv(folder, _resource("population_by_county").code)
    counts = [int(r["persons"]) for r in population if r["persons"]]
    assert counts and min(counts) >= 10
    assert any(r["suppressed"] == "true" for r in population)
    by_county: dict[str, dict[tuple[str, str], int | None]] = {}
    for r in population:
        by_county.setdefault(r["county_code"], {})[(r["age_band"], r["sex"])] = (
            int(r["persons"]) if r["persons"] else None
        )
    for cells in by_county.values():
        table = [[cells[(b, s)] for s in ("男", "女", TOTAL)] for b in (*AGE_BANDS, TOTAL)]
        assert recoverable(table) == []
    taxpayers = _csv(folder, _resource("individual_taxpayers_by_county").code)
    counts = [int(r["persons"]) for r in taxpayers if r["persons"]]
    assert min(counts, default=10) >= 10
    by_county = {}
    for r in taxpayers:
        by_county.setdefault(r["county_code"], {})[("", r["sex"])] = (
            int(r["persons"]) if r["persons"] else None
        )
    for cells in by_county.values():  # the one-row table with its column totals (the same)
        row = [cells[("", s)] for s in ("男", "女", TOTAL)]
        assert recoverable([row, row]) == []


def test_open_rows_equal_the_truth(world, warehouse_url):
    summary, result = world
    folder = Path(result["folder"])
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    enterprises = _csv(folder, _resource("enterprise_registration").code)
    expected = {
        o.uscc
        for o in summary.world.organisations.values()
        if o.kind in MARKET_KINDS and o.status == "active" and o.uscc
    }
    assert {r["uscc"] for r in enterprises if r["uscc"]} == expected
    uncoded = [
        o for o in summary.world.organisations.values()
        if o.kind in MARKET_KINDS and o.status == "active" and not o.uscc
    ]  # fmt: skip
    assert len(enterprises) == len(expected) + len(uncoded)
    penalties = _csv(folder, _resource("administrative_penalty").code)
    live = [k for (ds, k) in summary.truth.links if ds == "xyb_xzcf"]
    in_period = sorted(
        (decided, until, types)
        for decided, until, _fine, types in (summary.truth.penalty_terms[k] for k in live)
        if until >= today
    )
    assert in_period, "the world has penalties in their period"
    assert sorted(
        (r["decision_date"], r["publish_until"], r["penalty_types"]) for r in penalties
    ) == (in_period)
    debtors = _csv(folder, _resource("dishonest_debtor").code)
    listed = {k for (ds, k) in summary.truth.links if ds == "fy_sxbzxr"}
    assert listed and {r["case_number"] for r in debtors} == listed
    people = [
        r for r in [*penalties, *debtors] if r.get("party_kind", r.get("debtor_kind")) == "person"
    ]
    assert people and all(
        re.fullmatch(
            r"[0-9]{4}\*{10}[0-9]{3}[0-9X]|", r.get("party_code", r.get("debtor_code")) or ""
        )
        for r in people
    )
    assert all((r.get("party_name") or r.get("debtor_name")).endswith("*") for r in people)
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from open.dishonest_debtor").fetchone()[0] == len(
            debtors
        )


def test_the_manifest_checks_every_file(world):
    _, result = world
    folder = Path(result["folder"])
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    assert manifest["mode"] == "open" and manifest["delivery_id"] == result["version"]
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {f["name"] for f in manifest["files"]} == files - {"_manifest.json"}
    assert len(result["resources"]) == 5 and not result["withheld"]
    for entry in manifest["files"]:
        assert hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    for code in result["resources"]:
        meta = json.loads((folder / code / "metadata.json").read_text("utf-8"))
        assert meta["resource_code"] == code and meta["row_count"] == len(_csv(folder, code))
        assert {"title", "summary", "provider", "domain", "open_type", "update_cycle",
                "version_date", "licence", "fields"} <= meta.keys()  # fmt: skip


def test_a_dataset_marked_not_open_never_appears(world, warehouse_url, tmp_path):
    closed = [
        dataclasses.replace(r, open_type=NOT_OPEN)
        if (r.kind, r.key) == ("source", "xyb_xzcf")
        else r
        for r in static_resources()
    ]
    with psycopg.connect(warehouse_url) as conn:
        result = publish(conn, tmp_path, "test_closed", catalogue=closed)
        penalty = _resource("administrative_penalty").code
        assert penalty in result["withheld"] and penalty not in result["resources"]
        assert not (tmp_path / result["version"] / penalty).exists()
        assert (
            conn.execute("select to_regclass('open.administrative_penalty')").fetchone()[0] is None
        )
        manifest = json.loads((tmp_path / result["version"] / "_manifest.json").read_text("utf-8"))
        assert not any(f["name"].startswith(penalty) for f in manifest["files"])
        publish(conn, tmp_path, "test_reopened")  # leave schema open whole for the others
        assert conn.execute("select to_regclass('open.administrative_penalty')").fetchone()[0]


def test_a_grade_4_column_is_not_shared_without_an_approval(world, warehouse_url):
    """Also when the function is called directly, past the Python check."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("create role mdm_share_opentest")
        try:
            with pytest.raises(psycopg.errors.RaiseException, match="approval"):
                conn.execute(
                    """select access.grant_share('opentest', 'natural_person',
                           'mdm.natural_person', array['person_id', 'mobile'], 'x',
                           now() + interval '1 day', null)"""
                )
            assert (
                conn.execute(
                    "select count(*) from access.share_grant where consumer = 'opentest'"
                ).fetchone()[0]
                == 0
            )
        finally:
            conn.execute("drop role mdm_share_opentest")
