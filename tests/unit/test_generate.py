"""The generator: valid identifiers, honest manifests, encodings, complete truth, determinism."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from mdm.standardize import identifiers as ids
from mdm_tools.generate import GenerateConfig, generate, write_all
from mdm_tools.generate.noise import NoiseRates
from mdm_tools.generate.specs import spec

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def world_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    summary = generate(GenerateConfig(persons=1500, orgs=200, days=3, seed=42, defects=True))
    write_all(summary, out / "landing", out / "truth")
    return summary, out


def _rows(folder: Path) -> list[tuple[str, int, dict]]:
    manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
    encoding = {"UTF-8": "utf-8-sig", "GB18030": "gb18030"}[manifest["encoding"]]
    out = []
    for entry in manifest["files"]:
        data = (folder / entry["name"]).read_bytes()
        if entry["name"].endswith(".jsonl"):
            out += [
                (entry["name"], i, json.loads(line))
                for i, line in enumerate(data.decode().splitlines(), 1)
            ]
        else:
            reader = csv.DictReader(io.StringIO(data.decode(encoding)))
            out += [(entry["name"], i, row) for i, row in enumerate(reader, 2)]
    return out


def test_clean_world_identifiers_are_valid():
    from stdnum.cn import ric, uscc

    summary = generate(GenerateConfig(persons=800, orgs=150, seed=3, rates=NoiseRates.none()))
    persons = summary.world.persons.values()
    numbers = [p.id_number for p in persons if p.id_number]
    assert len(numbers) == len(set(numbers)) > 700
    # Checked with python-stdnum where it has the standard; the pipeline checks with std.*.
    assert all(ric.calc_check_digit(n) == n[17] for n in numbers)
    for p in persons:
        if p.id_number:
            assert ric.get_birth_date(p.id_number) == p.birth
            assert int(p.id_number[16]) % 2 == (1 if p.sex == "1" else 0)  # GB 11643: odd, male
    for o in summary.world.organisations.values():
        assert len(o.org_code) == 9 and ids.org_code_check_char(o.org_code[:8]) == o.org_code[8]
        if o.uscc:
            assert uscc.is_valid(o.uscc) and o.uscc[8:17] == o.org_code
        if o.regno:
            assert ids.is_valid_registration_number(o.regno)
    kinds = {o.kind for o in summary.world.organisations.values()}
    assert {"enterprise", "individual_business", "public_institution", "social_group"} <= kinds
    twins = [p for p in persons if p.twin_of]
    assert all(summary.world.persons[p.twin_of].birth == p.birth for p in twins)


def test_manifests_match_files(world_files):
    summary, out = world_files
    checked = 0
    for d in summary.deliveries:
        folder = out / "landing" / d.dataset / d.delivery_id
        if d.defect in ("no_manifest",):
            assert not (folder / "_manifest.json").exists()
            continue
        manifest = json.loads((folder / "_manifest.json").read_text("utf-8"))
        assert manifest["dataset"] == d.dataset and manifest["delivery_id"] == d.delivery_id
        for entry in manifest["files"]:
            data = (folder / entry["name"]).read_bytes()
            sha_ok = hashlib.sha256(data).hexdigest() == entry["sha256"]
            if d.defect == "wrong_declared_encoding":
                assert manifest["encoding"] == "UTF-8"
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
                continue
            lines = data.decode(
                "gb18030" if manifest["encoding"] == "GB18030" else "utf-8-sig",
                errors="replace" if d.defect == "invalid_byte_sequence" else "strict",
            )
            n = len(lines.splitlines()) - (
                0 if entry["name"].endswith(".jsonl") or not lines else 1
            )
            if d.defect == "bad_checksum":
                assert not sha_ok
            elif d.defect == "row_count_mismatch":
                assert entry["rows"] != n
            elif d.defect not in ("truncated_last_line", "empty_file"):
                assert sha_ok and entry["rows"] == n, (d.dataset, d.delivery_id, entry)
                checked += 1
    assert checked >= 20


def test_gb18030_files_are_not_utf8(world_files):
    _, out = world_files
    data = (out / "landing" / "jyt_xsxj" / "20261101-01" / "part-all.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "学生标识" not in data.decode("gb18030")  # header is the column codes
    assert data.decode("gb18030").startswith("XSID,QGXJH,XM")
    assert (out / "landing" / "gat_czrk" / "20261101-01" / "part-all.csv").read_bytes()[
        :3
    ] == b"\xef\xbb\xbf"


def test_record_keys_unique_and_truth_covers_every_record(world_files):
    summary, out = world_files
    with open(out / "truth" / "records.csv", encoding="utf-8") as f:
        truth = {(r["dataset"], r["record_key"]) for r in csv.DictReader(f)}
    with open(out / "truth" / "links.csv", encoding="utf-8") as f:
        truth |= {(r["dataset"], r["record_key"]) for r in csv.DictReader(f)}
    deleted_later: set[tuple[str, str]] = set()  # a repaired penalty: deleted, no live record
    for d in summary.deliveries:
        # certificates and correction answers have truths of their own (test_generate_v2)
        if d.defect is not None or d.dataset in ("dzzz_zzxx", "jcfk"):
            continue
        described = spec(d.dataset)
        folder = out / "landing" / d.dataset / d.delivery_id
        keys = []
        for _, _, row in _rows(folder):
            key = described.record_key_separator.join(row[k] for k in described.record_key)
            keys.append(key)
            if row.get("CZBS") == "D":
                assert (d.dataset, key) not in truth
                deleted_later.add((d.dataset, key))
            elif described.roles and described.domain == "person":
                assert any((d.dataset, f"{key}#{role}") in truth for role in described.roles)
            else:
                assert (d.dataset, key) in truth or d.dataset == "xyb_xzcf"
            for role in {"FDDBR", "FZR"} & set(described.roles):
                assert (d.dataset, f"{key}#{role}") in truth
        assert len(keys) == len(set(keys)), (d.dataset, d.delivery_id)
    penalties = {
        ("xyb_xzcf", row["XZCFID"])
        for d in summary.deliveries
        if d.dataset == "xyb_xzcf" and d.defect is None
        for _, _, row in _rows(out / "landing" / d.dataset / d.delivery_id)
    }
    assert penalties - deleted_later <= truth and not deleted_later & truth and deleted_later
    for table, rows in summary.frontend_rows.items():
        # a row the source flags deleted is no live record: staging drops it, so does the truth
        key = spec(table).record_key[0].lower()
        deleted = set(summary.frontend_deleted.get(table, ()))  # deleted outright (v2 defect)
        assert all(
            ((table, r[key]) in truth) == (r.get("scbz") != "1" and r[key] not in deleted)
            for r in rows
        )
    with open(out / "truth" / "relations.csv", encoding="utf-8") as f:
        relation_types = {r["relation_type"] for r in csv.DictReader(f)}
    assert {"spouse", "parent", "guardian", "legal_representative", "employee"} <= relation_types


def test_days_bring_deltas_with_operations(world_files):
    summary, out = world_files
    delta = [
        d for d in summary.deliveries if d.dataset == "gat_czrk" and d.delivery_id == "20261102-01"
    ][0]
    ops = {row["CZBS"] for _, _, row in _rows(out / "landing" / "gat_czrk" / delta.delivery_id)}
    assert ops <= {"I", "U", "D"} and ops
    expected = {d.expected for d in summary.deliveries if d.defect}
    assert expected == {"reject", "load", "quarantine_rows", "ignore_incomplete", "duplicate"}


def test_every_delivery_defect_of_the_standard_is_generated(world_files):
    summary, _ = world_files
    defects = {d.defect: (d.expected, d.wave) for d in summary.deliveries if d.defect}
    # Section 5: manifest row count / checksum, wrong declared encoding, missing/renamed/extra
    # column, truncated last line, empty file, the same delivery twice, a delta before its
    # full, a delivery days late (plus a folder still being written, and bad rows).
    assert defects == {
        "bad_checksum": ("reject", 1),
        "row_count_mismatch": ("reject", 1),
        "wrong_declared_encoding": ("reject", 1),
        "truncated_last_line": ("reject", 1),
        "empty_file": ("reject", 1),
        "missing_required_column": ("reject", 1),
        "extra_column": ("load", 1),
        "bad_rows": ("quarantine_rows", 1),
        "no_manifest": ("ignore_incomplete", 1),
        "late_delivery": ("load", 2),
        "duplicate_resend": ("duplicate", 2),
        "delta_before_full": ("load", 1),
        "full_after_its_delta": ("load", 2),
        # v2: malformed manifest fields; a NUL byte, an invalid byte sequence and a line over
        # a megabyte inside a value
        "malformed_extract_time": ("reject", 1),
        "malformed_mode": ("reject", 1),
        "malformed_provider": ("reject", 1),
        "nul_byte": ("quarantine_rows", 1),
        "invalid_byte_sequence": ("quarantine_rows", 1),
        "line_over_1mb": ("quarantine_rows", 1),
    }
    late = next(d for d in summary.deliveries if d.defect == "late_delivery")
    assert late.delivery_id < min(
        d.delivery_id for d in summary.deliveries if d.dataset == late.dataset and d.wave == 1
    )


def test_same_seed_same_bytes(tmp_path):
    for name in ("a", "b"):
        summary = generate(GenerateConfig(persons=600, orgs=80, days=2, seed=9, defects=True))
        write_all(summary, tmp_path / name / "landing", tmp_path / name / "truth")
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_day_one_is_the_same_whatever_the_number_of_days():
    one = generate(GenerateConfig(persons=600, orgs=80, days=1, seed=5))
    three = generate(GenerateConfig(persons=600, orgs=80, days=3, seed=5))
    first = {(d.dataset, d.delivery_id): d.files for d in one.deliveries}
    for d in three.deliveries:
        if (d.dataset, d.delivery_id) in first:
            assert d.files == first[(d.dataset, d.delivery_id)]


def _register_rows(delivery) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        row
        for data in delivery.files.values()
        for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    ]


def test_deletes_cancel_registrations_and_leave_the_rest_as_it_was():
    config = {"persons": 600, "orgs": 80, "days": 3, "seed": 5}
    plain = generate(GenerateConfig(**config))
    with_deletes = generate(GenerateConfig(**config, deletes=True))
    # Day 2 is the same but for the cancelled registrations' CZBS = D rows.
    day_two = "20261102-01"
    before = {(d.dataset, d.delivery_id): d for d in plain.deliveries}
    after = {(d.dataset, d.delivery_id): d for d in with_deletes.deliveries}
    assert before.keys() == after.keys()
    for key, delivery in before.items():
        if key[1] <= day_two and key[0] != "gat_czrk":
            assert after[key].files == delivery.files, key
    rows = _register_rows(after[("gat_czrk", day_two)])
    deleted = {row["RYBH"] for row in rows if row["CZBS"] == "D"}
    assert deleted
    assert [r for r in rows if r["CZBS"] != "D"] == _register_rows(before[("gat_czrk", day_two)])
    # A cancelled record is no live record of the truth, and no later day sends it again.
    assert (
        not {key for dataset, key in with_deletes.truth.records if dataset == "gat_czrk"} & deleted
    )
    later = _register_rows(after[("gat_czrk", "20261103-01")])
    assert not {row["RYBH"] for row in later if row["CZBS"] != "D"} & deleted
