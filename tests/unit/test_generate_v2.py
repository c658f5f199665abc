"""The generator's v2 sources (standard 4.11-4.19): layouts, certificate gaps, truth, defects."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from mdm.registry import datasets
from mdm_tools.generate import GenerateConfig, generate, write_all
from mdm_tools.generate import certificates as certs
from mdm_tools.generate.noise import NoiseRates
from mdm_tools.generate.specs import V2_DATASETS, spec

pytestmark = pytest.mark.unit

# The standard's column tables (4.11-4.19), in delivery order; ``+CZBS``: delta files only.
STANDARD_COLUMNS = {
    "sft_jgdj": "JGID TYSHXYDM JGMC JGLX ZZXS ZYXKZH FZR FZRZJHM ZS XZQHDM JGZT PZRQ GXSJ",
    "sft_zyry": "RYID XM XB SFZJHM ZYLB ZYZH ZYJGMC ZYJGDM ZYZT SCZYRQ GXSJ",
    "dzzz_zzxx": "zzbs zzlxdm zzbh czztmc czztdmlx czztdm bfjg bfjgdm bfrq yxqz zzzt ywlsh zmxx "
    "bswj gxsj czbs",
    "gjj_dwjc": "DWZH DWMC TYSHXYDM ZZJGDM DWDZ JCRS YJCE JZNY DWZT KHRQ GXSJ",
    "sdq_jfxx": "HH NYLX YHMC TYSHXYDM YDDZ ZDNY YJJE SJJE QFJE GXSJ",
    "xyb_xzcf": "XZCFID CFJDSWH XDRMC XDRLB XDRDM FDDBR ZJLX ZJHM CFLB CFJE CFRQ CFJG CFJGDM "
    "GSJZQ GXSJ +CZBS",
    "fy_sxbzxr": "AH BZXRMC BZXRLX ZJHM FDDBR ZXFY LARQ FBRQ SXQX LXQK GXSJ SCBZ",
    "xyd_sq": "SQID TYSHXYDM QYMC YHDM YHMC SQFW SQRQ YXQZ SQZT GXSJ +CZBS",
    "jcfk": "JCBH FKXH SJJ CLJG CLSM CLRQ GXSJ",
}
# channel, file format, declared encoding, mode of the day-one delivery
STANDARD_DELIVERY = {
    "sft_jgdj": ("file", "csv", "UTF-8", "full"),
    "sft_zyry": ("file", "csv", "GB18030", "full"),
    "dzzz_zzxx": ("file", "jsonl", "UTF-8", "delta"),
    "gjj_dwjc": ("file", "csv", "UTF-8", "full"),
    "sdq_jfxx": ("file", "csv", "GB18030", "delta"),
    "xyb_xzcf": ("file", "csv", "UTF-8", "delta"),
    "fy_sxbzxr": ("frontend_db", None, None, None),
    "xyd_sq": ("file", "csv", "UTF-8", "delta"),
    "jcfk": ("file", "csv", "UTF-8", "delta"),
}


def _written(out: Path, config: GenerateConfig):  # type: ignore[no-untyped-def]
    summary = generate(config)
    write_all(summary, out / "landing", out / "truth")
    return summary, out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    config = GenerateConfig(persons=2500, orgs=300, days=3, seed=11)
    return _written(tmp_path_factory.mktemp("v2"), config)


@pytest.fixture(scope="module")
def with_defects(tmp_path_factory):
    config = GenerateConfig(persons=800, orgs=100, days=2, seed=12, defects=True)
    return _written(tmp_path_factory.mktemp("v2d"), config)


def _truth(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / "truth" / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _files(folder: Path) -> tuple[dict, dict[str, bytes]]:
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    return manifest, {e["name"]: (folder / e["name"]).read_bytes() for e in manifest["files"]}


def _csv(data: bytes, encoding: str) -> list[dict[str, str]]:
    codec = "gb18030" if encoding == "GB18030" else "utf-8-sig"
    return list(csv.DictReader(io.StringIO(data.decode(codec))))


def _lines(summary, out: Path, dataset: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows: list[dict] = []
    for d in summary.deliveries:
        if d.dataset == dataset and d.defect is None:
            manifest, files = _files(out / "landing" / dataset / d.delivery_id)
            for name, data in files.items():
                if name.endswith(".jsonl"):
                    rows += [json.loads(line) for line in data.decode().splitlines()]
                else:
                    rows += _csv(data, manifest["encoding"])
    return rows


@pytest.mark.parametrize("dataset", V2_DATASETS)
def test_layout_follows_the_standard(plain, dataset):
    summary, out = plain
    expected = STANDARD_COLUMNS[dataset].split()
    full = [c for c in expected if not c.startswith("+")]
    delta = [c.lstrip("+") for c in expected]
    described = spec(dataset)
    assert described.file_columns("full") == full and described.file_columns("delta") == delta
    channel, fmt, encoding, first_mode = STANDARD_DELIVERY[dataset]
    assert (described.channel, described.format, described.encoding) == (channel, fmt, encoding)
    if dataset in datasets():  # the registry (engineer A's part) says the same
        registry = datasets()[dataset]
        assert registry.file_columns("delta") == delta and registry.channel == channel
    if channel == "frontend_db":
        rows = summary.frontend_rows[dataset]
        assert rows and all(list(row) == [c.lower() for c in delta] for row in rows)
        return
    ids = sorted(d.delivery_id for d in summary.deliveries if d.dataset == dataset)
    if dataset == "jcfk":  # no outbox, no requests: no answers
        assert ids == []
        return
    manifest, files = _files(out / "landing" / dataset / ids[0])
    assert (manifest["mode"], manifest["encoding"]) == (first_mode, encoding)
    for name, data in files.items():
        assert name.endswith(f".{fmt}")
        if fmt == "jsonl":
            for line in data.decode("utf-8").splitlines():
                keys = list(json.loads(line))
                assert keys == [c for c in delta if c in keys] and {"zzbs", "czbs"} <= set(keys)
        else:
            header = data.decode("gb18030" if encoding == "GB18030" else "utf-8").split("\n")[0]
            assert header.strip().split(",") == (full if first_mode == "full" else delta)
    if dataset == "sdq_jfxx":  # split by city like rst_cbry
        assert len(files) > 3 and all(n[5:9] == "45" + n[7:9] for n in files)


def test_certificate_gaps_in_known_proportions(plain):
    _, out = plain
    rows = [r for r in _truth(out, "certificates.csv") if r["gap"] != certs.ORPHAN]
    assert {r["zzlxdm"] for r in rows} == set(certs.CERT_TYPES)
    checked = 0
    for zzlxdm in certs.CERT_TYPES:
        issued = [r for r in rows if r["zzlxdm"] == zzlxdm and not r["duplicate_of"]]
        if len(issued) < 150:
            continue
        for gap in certs.GAPS:
            expected = sum(certs.gap_rates(zzlxdm, r["city"])[gap] for r in issued)
            seen = sum(r["gap"] == gap for r in issued)
            assert abs(seen - expected) <= 4 * math.sqrt(expected) + 2, (zzlxdm, gap, seen)
            checked += 1
        # The cities differ: a city of factor 2 has four times the gaps of a city of 0.5.
        factors = {certs.city_factor(r["city"]) for r in issued}
        assert len(factors) > 1
    assert checked >= 8
    # The ywlsh is missing mostly on certificates migrated from before the system.
    marriages = [r for r in rows if r["zzlxdm"] == "JHZ" and r["gap"] != "never_aggregated"]
    assert 0.3 < sum(r["ywlsh_missing"] == "1" for r in marriages) / len(marriages) < 0.8
    assert any(r["duplicate_of"] for r in rows)


def test_certificate_lines_show_their_truth(plain):
    summary, out = plain
    lines = {line["zzbs"]: line for line in _lines(summary, out, "dzzz_zzxx")}
    truth = _truth(out, "certificates.csv")
    records = {(r["dataset"], r["record_key"]): r["entity_id"] for r in _truth(out, "records.csv")}
    entities = {r["person_id"] for r in _truth(out, "persons.csv")}
    entities |= {r["organisation_id"] for r in _truth(out, "organisations.csv")}
    gaps = Counter(r["gap"] for r in truth)
    assert set(gaps) == {"", *certs.GAPS, certs.ORPHAN}
    for r in truth:
        assert r["holder_id"] in entities
        if r["gap"] == "never_aggregated":
            assert r["zzbs"] == "" and r["holder_record"]
            continue
        line = lines[r["zzbs"]]
        fields = certs.CERT_TYPES[r["zzlxdm"]][1]
        assert line["zzlxdm"] == r["zzlxdm"]
        if r["gap"] == certs.ORPHAN:
            assert "ywlsh" not in line and not r["business_key"]
            continue
        # the holder is the entity of the business record's holder
        assert records[(r["business_dataset"], r["holder_record"])] == r["holder_id"]
        assert ("ywlsh" not in line) == (r["ywlsh_missing"] == "1")
        if "ywlsh" in line:
            assert line["ywlsh"] == r["business_key"]
        zmxx = line.get("zmxx") or {}
        if r["gap"] == "layout_only":
            assert zmxx == {} and line["bswj"]["format"] in ("OFD", "PDF")
            assert r["field"] == "zmxx"
        elif r["gap"] == "empty_field":
            assert [f"zmxx.{f}" for f in fields if zmxx.get(f) == ""] == [r["field"]], r
        else:
            assert all(zmxx.get(f) for f in fields), r
            # the truth names the disagreeing field (the correction request's column)
            assert (r["gap"] == "disagreeing_field") == r["field"].startswith("zmxx."), r
            assert (r["gap"] == "") == (r["field"] == ""), r
        if r["duplicate_of"]:
            first = lines[r["duplicate_of"]]
            assert first | {"zzbs": r["zzbs"]} == line


def test_disagreeing_surface_fields_disagree_with_the_business_record():
    summary = generate(GenerateConfig(persons=1500, orgs=150, seed=13))
    by_holder = {}
    for m in summary.world.marriages:
        for issue in certs.marriage_certificates(summary.world, m):
            by_holder[issue.holder_record] = issue
    library = summary.v2.library.delivered
    seen = Counter()
    for row in summary.truth.certificates:
        zzlxdm, holder_record, gap = row[1], row[4], row[8]
        if zzlxdm != "JHZ" or gap in ("never_aggregated", "layout_only", certs.ORPHAN):
            continue
        zmxx = library[(zzlxdm, holder_record)][0]["zmxx"]
        differs = [k for k, v in by_holder[holder_record].zmxx.items() if zmxx.get(k) != v]
        assert len(differs) == (1 if gap in ("empty_field", "disagreeing_field") else 0), row
        assert [f"zmxx.{k}" for k in differs] == ([row[12]] if differs else []), row
        seen[gap] += 1
    assert seen["disagreeing_field"] and seen[""]


def test_links_name_their_true_entity(plain):
    summary, out = plain
    links = _truth(out, "links.csv")
    persons = {r["person_id"]: r for r in _truth(out, "persons.csv")}
    orgs = {r["organisation_id"]: r for r in _truth(out, "organisations.csv")}
    world = summary.world
    assert {r["dataset"] for r in links} == {
        "gjj_dwjc", "sdq_jfxx", "xyb_xzcf", "fy_sxbzxr", "xyd_sq",
    }  # fmt: skip
    for r in links:
        assert r["entity_id"] in (persons if r["entity_type"] == "person" else orgs)
    bases = Counter((r["dataset"], r["basis"]) for r in links)
    for variant in ("exact", "abbreviation", "bracket", "former_name"):
        assert (
            bases[("gjj_dwjc", f"name_address:{variant}")]
            + bases[("sdq_jfxx", f"name_address:{variant}")]
        )
    assert bases[("xyb_xzcf", "operator_id_number")] and bases[("xyb_xzcf", "id_number")]
    assert bases[("gjj_dwjc", "org_code")] and bases[("gjj_dwjc", "uscc")]
    link = {(r["dataset"], r["record_key"]): r for r in links}
    # What each record carries agrees with its basis.
    for row in _lines(summary, out, "gjj_dwjc"):
        r = link[("gjj_dwjc", row["DWZH"])]
        org = world.organisations[r["entity_id"]]
        day_one_name = (org.former_names or [org.name])[0]  # renamed on a later day
        if r["basis"] == "uscc":
            assert row["TYSHXYDM"] == org.uscc
        elif r["basis"] == "org_code":
            assert not row["TYSHXYDM"] and row["ZZJGDM"].replace("-", "") == org.org_code
        else:
            assert not row["TYSHXYDM"] and not row["ZZJGDM"]
            assert (row["DWMC"] == day_one_name) == (r["basis"] == "name_address:exact")
    penalties = _lines(summary, out, "xyb_xzcf")
    repaired = {row["XZCFID"] for row in penalties if row["CZBS"] == "D"}
    for row in penalties:
        if row["XZCFID"] in repaired:
            assert ("xyb_xzcf", row["XZCFID"]) not in link
            continue
        r = link[("xyb_xzcf", row["XZCFID"])]
        if r["basis"] == "operator_id_number":
            business = world.organisations[r["entity_id"]]
            assert row["XDRLB"] == "3" and business.kind == "individual_business"
            assert row["XDRDM"] == world.persons[business.legal_rep].id_number
    for row in summary.frontend_rows["fy_sxbzxr"]:
        assert (("fy_sxbzxr", row["ah"]) in link) == (row["scbz"] == "0")


def test_institutions_and_practitioners(plain):
    summary, out = plain
    justice = summary.v2.justice
    relations = _truth(out, "relations.csv")
    practising = {(r["from_id"], r["to_id"]) for r in relations if r["relation_type"] ==
                  "practitioner"}  # fmt: skip
    assert {r["relation_type"] for r in relations} >= {"practitioner", "person_in_charge"}
    records = {(r["dataset"], r["record_key"]): r["entity_id"] for r in _truth(out, "records.csv")}
    rows = _lines(summary, out, "sft_zyry")
    for row in rows:
        pid = records[("sft_zyry", row["RYID"])]
        institution = next(p.institution for p in justice.practitioners if p.ryid == row["RYID"])
        if row["ZYZT"] != "3":
            assert (pid, institution) in practising
        if row["ZYJGDM"]:
            assert row["ZYJGDM"] == justice.institutions[institution].uscc
    assert any(not row["ZYJGDM"] for row in rows)  # known by name only
    passports = {p.passport for p in summary.world.persons.values() if p.passport}
    assert any(row["SFZJHM"] in passports for row in rows)  # a foreign lawyer
    legal_reps = {o.legal_rep for o in summary.world.organisations.values()}
    institutions = _lines(summary, out, "sft_jgdj")
    in_charge = [records[("sft_jgdj", f"{r['JGID']}#FZR")] for r in institutions]
    assert set(in_charge) & legal_reps
    for row in institutions:
        oid = records[("sft_jgdj", row["JGID"])]
        assert justice.jglx[oid] == row["JGLX"]
        assert row["TYSHXYDM"][:2] == {"01": "31", "02": "32", "03": "34", "04": "33"}[row["JGLX"]]


def test_penalties_debtors_and_authorisations_change_over_the_days(plain):
    summary, out = plain
    penalties = _lines(summary, out, "xyb_xzcf")
    assert {r["CZBS"] for r in penalties} == {"I", "D"}
    assert {r["XDRLB"] for r in penalties if r["CZBS"] == "I"} == {"1", "2", "3"}
    assert all(r["GSJZQ"] > r["CFRQ"] for r in penalties if r["CZBS"] == "I")
    debtors = summary.frontend_rows["fy_sxbzxr"]
    assert {r["scbz"] for r in debtors} == {"0", "1"}
    assert len({r["gxsj"].date() for r in debtors}) > 1
    grants = _lines(summary, out, "xyd_sq")
    assert {(r["CZBS"], r["SQZT"]) for r in grants} == {("I", "1"), ("U", "2")}
    assert len({r["YHDM"] for r in grants}) > 2
    expired = [r for r in grants if r["YXQZ"] < "2026-11-01"]
    assert expired  # expired before the first day
    certificates = _lines(summary, out, "dzzz_zzxx")
    changed = [c for c in certificates if c["czbs"] == "U"]
    annulled = [c for c in changed if c["zzzt"] == "2"]  # enterprises deregistered
    assert annulled and all(c["zzlxdm"] == "YYZZ" for c in changed)
    # the others are licences reissued by a rename (变更登记): valid, with the new name
    reissued = [c for c in changed if c["zzzt"] != "2"]
    assert reissued and all(c["zzzt"] == "1" for c in reissued)
    assert all(not c["zmxx"] or c["zmxx"]["mc"] in (c["czztmc"], "") for c in reissued[:20])
    terms = Counter("长期" if c["yxqz"] == "长期" else len(c["yxqz"]) for c in certificates)
    assert set(terms) == {"长期", 10}


def test_v2_defects_only_when_asked(plain, with_defects):
    summary, _ = plain
    assert not any(d.defect for d in summary.deliveries)
    assert not summary.frontend_late and not summary.frontend_deleted
    assert not summary.truth.frontend_defects
    summary, out = with_defects
    defects = {d.defect: d for d in summary.deliveries if d.defect}
    for defect, field in (
        ("malformed_extract_time", "extract_time"),
        ("malformed_mode", "mode"),
        ("malformed_provider", "provider"),
    ):
        d = defects[defect]
        manifest = json.loads((out / "landing" / d.dataset / d.delivery_id / "_manifest.json")
                              .read_text("utf-8"))  # fmt: skip
        value = manifest[field]
        if field == "extract_time":
            with pytest.raises(ValueError):
                dt.datetime.fromisoformat(value)
        else:
            assert value not in ("full", "delta") and value != "广西壮族自治区司法厅"
    for defect, check in (
        ("nul_byte", lambda data: b"\x00" in data),
        ("invalid_byte_sequence", lambda data: b"\xff\xfe" in data),
        ("line_over_1mb", lambda data: max(map(len, data.split(b"\n"))) > 2**20),
    ):
        d = defects[defect]
        (data,) = d.files.values()
        assert check(data) and d.expected == "quarantine_rows" and len(d.defect_keys) == 1
        line = next(x for x in data.split(b"\n") if x.startswith(d.defect_keys[0].encode()))
        assert check(line)
        assert sum(d.rows.values()) == len(data.rstrip(b"\n").split(b"\n")) - 1
    wave1 = {r["ah"]: r for r in summary.frontend_rows["fy_sxbzxr"]}
    late, corrected = summary.frontend_late["fy_sxbzxr"]
    assert late["ah"] not in wave1 and late["gxsj"] < min(r["gxsj"] for r in wave1.values())
    assert corrected["gxsj"] < wave1[corrected["ah"]]["gxsj"]
    assert corrected["lxqk"] != wave1[corrected["ah"]]["lxqk"]
    (deleted,) = summary.frontend_deleted["fy_sxbzxr"]
    links = {r["record_key"] for r in _truth(out, "links.csv") if r["dataset"] == "fy_sxbzxr"}
    assert wave1[deleted]["scbz"] == "0" and deleted not in links and late["ah"] in links
    planted = json.loads((out / "truth" / "frontend_defects.json").read_text("utf-8"))
    assert {p["defect"] for p in planted} == {
        "late_commit", "gxsj_corrected_downwards", "hard_delete",
    }  # fmt: skip


def _outbox(folder: Path, requests: dict[str, list[dict[str, str]]]) -> Path:
    columns = ["JCBH", "SJJ", "JLBS", "ZDM", "YZ", "WTLX", "JYZ", "ZJ", "TCRQ"]
    for dataset, rows in requests.items():
        delivery = folder / dataset / "20261101-01"
        delivery.mkdir(parents=True)
        with open(delivery / "corrections.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(rows)
        (delivery / "_manifest.json").write_text("{}")
    incomplete = folder / "gat_czrk" / "20261101-02"  # no manifest yet: not read
    incomplete.mkdir(parents=True)
    (incomplete / "corrections.csv").write_text(",".join(columns) + "\nX1,gat_czrk,R,XM,,,,,\n")
    return folder


def test_correction_answers_come_from_the_outbox(tmp_path):
    config = {"persons": 800, "orgs": 80, "seed": 14}
    first = generate(GenerateConfig(**config, days=1))
    registered = sorted(p.rybh for p in first.world.persons.values() if p.rybh)[:40]
    students = sorted(k for (ds, k) in first.truth.records if ds == "jyt_xsxj")[:30]
    taxpayers = sorted(r["djxh"] for r in first.frontend_rows["swj_grnsr"])[:30]

    def request(n: int, dataset: str, key: str, column: str, value: str) -> dict[str, str]:
        return {
            "JCBH": f"JC{n:06d}", "SJJ": dataset, "JLBS": key, "ZDM": column, "YZ": "?",
            "WTLX": "SOURCE_CONFLICT", "JYZ": value, "ZJ": "gat_czrk", "TCRQ": "2026-11-01",
        }  # fmt: skip

    outbox = _outbox(
        tmp_path / "outbox",
        {
            "gat_czrk": [
                request(i, "gat_czrk", k, "XM", "更正名") for i, k in enumerate(registered)
            ],
            "jyt_xsxj": [
                request(100 + i, "jyt_xsxj", f"{k.split('#')[0]}#XS", "XM", "更正生")
                for i, k in enumerate(students)
            ],
            "swj_grnsr": [
                request(200 + i, "swj_grnsr", k, "LXDH", "13800000000")
                for i, k in enumerate(taxpayers)
            ],
        },
    )
    summary = generate(GenerateConfig(**config, days=4, outbox=outbox))
    answers = [d for d in summary.deliveries if d.dataset == "jcfk"]
    assert answers and min(d.delivery_id for d in answers) > "20261101-99"
    rows = [row for d in answers for data in d.files.values() for row in _csv(data, "UTF-8")]
    assert {r["CLJG"] for r in rows} == {"1", "2"} and {r["FKXH"] for r in rows} == {"1", "2"}
    assert len({(r["JCBH"], r["FKXH"]) for r in rows}) == len(rows)
    requested = (*range(40), *range(100, 130), *range(200, 230))
    assert {r["JCBH"] for r in rows} <= {f"JC{n:06d}" for n in requested}
    truth = summary.truth.answers
    assert len(truth) == len(rows)
    corrected = [t for t in truth if t[-1]]
    assert corrected
    by_id = {(d.dataset, d.delivery_id): d for d in summary.deliveries}
    phones = {r["djxh"]: r["lxdh"] for r in summary.frontend_rows["swj_grnsr"]}
    for _, _, dataset, key, column, cljg, _, delivered_in in corrected:
        assert cljg == "1"
        if dataset == "swj_grnsr":  # a front-end row updated in place
            assert delivered_in.startswith("frontend:") and phones[key] == "13800000000"
            continue
        d = by_id[(dataset, delivered_in)]
        delivered = [row for data in d.files.values() for row in _csv(data, d.declared_encoding)]
        record = key.split("#")[0]
        spec_key = spec(dataset).record_key[0]
        (row,) = [r for r in delivered if r[spec_key] == record]
        assert row[column] in ("更正名", "更正生")
        if dataset == "gat_czrk":
            assert d.mode == "delta" and row["CZBS"] == "U"
        else:  # a full-only dataset sends a new full
            assert d.mode == "full" and len(delivered) > 1
    # Same outbox, same answers; the first ten datasets' own deliveries are untouched.
    again = generate(GenerateConfig(**config, days=4, outbox=outbox))
    assert [d.files for d in again.deliveries] == [d.files for d in summary.deliveries]
    plain = generate(GenerateConfig(**config, days=4))
    plain_files = {(d.dataset, d.delivery_id): d.files for d in plain.deliveries}
    for d in summary.deliveries:
        if (d.dataset, d.delivery_id) in plain_files:
            assert plain_files[(d.dataset, d.delivery_id)] == d.files
    assert not any(d.dataset == "jcfk" for d in plain.deliveries)


def test_certificate_requests_are_answered_with_the_corrected_surface(tmp_path):
    """A request about a certificate's surface field (``zmxx.<key>``) or status (``zzzt``):
    the corrected value arrives as a ``czbs = U`` line of the library with that key replaced
    and the rest of the surface as it was."""
    config = {"persons": 800, "orgs": 80, "seed": 16}
    first = generate(GenerateConfig(**config, days=1))
    licences = sorted(
        (r[0] for r in first.truth.certificates if r[1] == "YYZZ" and r[0] and r[8] == ""),
    )[:60]
    columns = [("zmxx.mc", "更正的名称"), ("zzzt", "1"), ("zmxx.zs", "更正的住所")]
    outbox = _outbox(
        tmp_path / "outbox",
        {
            "dzzz_zzxx": [
                {"JCBH": f"JC{n:06d}", "SJJ": "dzzz_zzxx", "JLBS": zzbs, "ZDM": column,
                 "YZ": "?", "WTLX": "SOURCE_CONFLICT", "JYZ": value, "ZJ": "", "TCRQ": "2026-11-01"}
                for n, zzbs in enumerate(licences)
                for column, value in [columns[n % 3]]
            ]
        },
    )  # fmt: skip
    summary = generate(GenerateConfig(**config, days=4, outbox=outbox))
    library = [
        (d.delivery_id, json.loads(line))
        for d in sorted(summary.deliveries, key=lambda d: d.delivery_id)
        if d.dataset == "dzzz_zzxx"
        for data in d.files.values()
        for line in data.decode().splitlines()
    ]
    by_id = {(d.dataset, d.delivery_id): d for d in summary.deliveries}
    corrected = [t for t in summary.truth.answers if t[-1]]
    assert corrected and {t[2] for t in corrected} == {"dzzz_zzxx"}
    for _, _, _, zzbs, column, _, _, delivered_in in corrected:
        d = by_id[("dzzz_zzxx", delivered_in)]
        lines = [
            json.loads(text) for data in d.files.values() for text in data.decode().split("\n")[:-1]
        ]
        (line,) = [r for r in lines if r["zzbs"] == zzbs]
        old = [r for delivery, r in library if r["zzbs"] == zzbs and delivery < delivered_in][-1]
        assert line["czbs"] == "U" and line["gxsj"] >= old["gxsj"]
        value = dict(columns)[column]
        if column == "zzzt":
            assert line["zzzt"] == value and line["zmxx"] == old["zmxx"]
        else:
            key = column.split(".")[1]
            assert line["zmxx"] == old["zmxx"] | {key: value} and "zmxx." + key not in line


def test_the_v2_value_defects_follow_the_noise_rates():
    """``--clean`` (no value noise) gives a perfect library and credit records by code."""
    summary = generate(
        GenerateConfig(persons=800, orgs=100, days=2, seed=15, rates=NoiseRates.none())
    )
    rows = summary.truth.certificates
    assert rows and {(r[8], r[9], r[10]) for r in rows} == {("", "0", "")}
    bases = {basis for (_, _, basis) in summary.truth.links.values()}
    assert bases and not {b for b in bases if b.startswith("name_address")}
    noisy = generate(GenerateConfig(persons=800, orgs=100, days=2, seed=15))
    assert {r[8] for r in noisy.truth.certificates} > {""}
    assert {b for (_, _, b) in noisy.truth.links.values()} > bases


def test_a_blank_required_name_is_a_planted_value_defect(plain):
    """The insured person's name (required by the standard) delivered blank now and then:
    each blank cell is in the truth as ``missing_required`` with the true name, and only
    those are blank."""
    summary, out = plain
    blank = {
        r["record_key"]: r
        for r in _truth(out, "value_defects.csv")
        if r["kind"] == "missing_required"
    }
    assert blank and all(r["dataset"] == "rst_cbry" and r["column"] == "XM" for r in blank.values())
    assert all(r["delivered"] == "" and r["true_value"] for r in blank.values())
    delivered: dict[str, str] = {}
    for folder in sorted((out / "landing" / "rst_cbry").iterdir()):
        manifest, files = _files(folder)
        for data in files.values():
            for row in _csv(data, manifest["encoding"]):
                delivered[f"{row['GRBH']}_{row['XZLX']}"] = row["XM"]
    assert {key for key, name in delivered.items() if not name.strip()} == set(blank)
    clean = generate(GenerateConfig(persons=300, orgs=40, days=1, seed=11, rates=NoiseRates.none()))
    assert not [d for d in clean.truth.defects.values() if d[1] == "missing_required"]
