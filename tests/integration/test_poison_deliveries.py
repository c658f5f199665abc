"""One bad delivery must not stop a dataset (issue #16).

A malformed manifest, a NUL character, bytes that are not the declared encoding,
a line over a megabyte, a link instead of a file: each ends as a rejection with
what to do, or as a quarantined row (a value's NUL, undecodable bytes or overlong
line), and the dataset's next deliveries load. A re-send is recognised by its
manifest's content; files are hashed from the bytes loaded; a large file is parsed
in a bounded amount of memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ingest_support import counts_add_up, deliver, ledger, outcome_counts, quarantined_rows

from mdm.connections import params_from_url
from mdm.ingest import gate, raw_tables
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset

pytestmark = pytest.mark.integration

REGISTER = dataset("gat_czrk")  # CSV, full and delta
BIRTHS = dataset("wjw_csyxzm")  # JSONL, deltas, insert-only


def register_row(key: str, name: str = "张三", address: str = "民主路1号") -> list[str]:
    return [key, "11010519491231002X", name, "", "2", "01", "19491231", "450102", address, "0",
            "", "20261101020304"]  # fmt: skip


def register_csv(rows: list[list[str]], mode: str = "full") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGISTER.file_columns(mode))
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def births_jsonl(keys: list[str]) -> bytes:
    lines = [
        json.dumps({"cszmbh": k, "mqxm": "李四", "gxsj": "2026-11-01 10:00:00"}, ensure_ascii=False)
        for k in keys
    ]
    return ("\n".join(lines) + "\n").encode()


def ingest(url: str, landing: Path, spec=REGISTER, **kwargs: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    report = ingest_file_drops(params_from_url(url), landing, spec, "poison", **kwargs)
    return {o.delivery_id: o for o in report.outcomes}


NOT_AN_OBJECT = object()


@pytest.mark.parametrize(
    "bad",
    [
        {"extract_time": "yesterday"},
        {"extract_time": 20261101},
        {"extract_time": "2026-11-01T02:00:00"},  # (v2) no UTC offset: ambiguous
        {"extract_time": "2026-11-01+08:00"},
        {"extract_time": "2026-11-31T02:00:00+08:00"},
        {"mode": "increment"},
        {"mode": None},
        {"provider": None},  # (v2) given without a value
        {"provider": ""},
        {"provider": "   "},
        {"provider": 450000},
        {"provider": {"name": "公安厅"}},
        {"provider": "公安\x00厅"},
        {"mode": ["full"]},
        {"encoding": ["UTF-8"]},
        {"files": ["part-1.csv"]},
        {"files": [{"name": "part-1.csv", "rows": 10**30, "sha256": "0" * 64}]},
        {"files": [{"name": "../../etc/passwd", "rows": 1, "sha256": "0" * 64}]},
        NOT_AN_OBJECT,
    ],
    ids=lambda bad: "not-an-object" if bad is NOT_AN_OBJECT else "-".join(bad),
)
def test_a_malformed_manifest_is_rejected_and_the_next_delivery_loads(
    bad, tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    data = register_csv([register_row("R1")])
    if bad is NOT_AN_OBJECT:
        folder = deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data})
        (folder / "_manifest.json").write_text("[]")
    else:
        deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data}, overrides=bad)
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": data})
    outcomes = ingest(warehouse_url, landing)
    assert outcomes["20261101-01"].status == "rejected"
    assert outcomes["20261101-01"].error_code == "bad_manifest"
    assert "gat_czrk/20261101-01/_manifest.json" in outcomes["20261101-01"].error
    assert "to do:" in outcomes["20261101-01"].error
    assert outcomes["20261102-01"].status == "loaded"
    entries = ledger(warehouse_url, "gat_czrk")
    assert entries["20261101-01"]["status"] == "rejected"
    counts_add_up(warehouse_url)
    # The next run changes nothing (the same manifest gives the same rejection).
    assert ingest(warehouse_url, landing) == {}


def test_a_nul_character_quarantines_its_row_in_every_path(
    tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    # Unquoted full (COPY as delivered is tried), quoted delta, JSONL with an escaped NUL.
    full = [register_row("R1"), register_row("R2", name="张\x00三"), register_row("R3")]
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": register_csv(full)})
    delta = [
        register_row("R4", name='say "hi"') + ["I"],
        register_row("R5", address="\x00") + ["U"],
    ]
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": register_csv(delta, "delta")},
            mode="delta")  # fmt: skip
    deliver(landing, "gat_czrk", "20261103-01", {"part-1.csv": register_csv([register_row("R6")])})
    births = births_jsonl(["B1"]) + b'{"cszmbh": "B2", "mqxm": "\\u0000", "gxsj": "2026-11-01"}\n'
    deliver(landing, "wjw_csyxzm", "20261101-01", {"part-1.jsonl": births}, mode="delta")
    deliver(landing, "wjw_csyxzm", "20261102-01", {"part-1.jsonl": births_jsonl(["B3"])},
            mode="delta")  # fmt: skip

    register = ingest(warehouse_url, landing)
    births_outcomes = ingest(warehouse_url, landing, BIRTHS)
    assert outcome_counts(register) == {
        "20261101-01": ("partially_quarantined", 2, 1),
        "20261102-01": ("partially_quarantined", 1, 1),
        "20261103-01": ("loaded", 1, 0),
    }
    assert outcome_counts(births_outcomes) == {
        "20261101-01": ("partially_quarantined", 1, 1),
        "20261102-01": ("loaded", 1, 0),
    }
    quarantined = quarantined_rows(warehouse_url)
    assert [(q[0], q[1], q[3], q[4]) for q in quarantined] == [
        ("gat_czrk", "20261101-01", 3, "nul_byte"),
        ("gat_czrk", "20261102-01", 3, "nul_byte"),
        ("wjw_csyxzm", "20261101-01", 2, "nul_byte"),
    ]
    assert "张\\x00三" in quarantined[0][6]
    counts_add_up(warehouse_url)


def test_undecodable_values_and_overlong_lines_quarantine_their_rows(
    tmp_path, warehouse_url, clean_ingestion
):
    """(v2) Bytes that are not the declared encoding in one value, a line over a megabyte:
    the row is quarantined with its line, the reason and the start of its text; the rest of
    the delivery loads and the counts add up (a file mostly in another encoding is rejected:
    test_ingest_files, wrong_declared_encoding)."""
    landing = tmp_path / "landing"
    bad_utf8 = births_jsonl(["B1"]) + b'{"cszmbh": "B2", "mqxm": "\xff\xfe", "gxsj": "x"}\n'
    deliver(landing, "wjw_csyxzm", "20261101-01", {"part-1.jsonl": bad_utf8}, mode="delta")
    long_line = births_jsonl(["B3"]) + births_jsonl(["B4" + "x" * (2 << 20)])
    deliver(landing, "wjw_csyxzm", "20261102-01", {"part-1.jsonl": long_line}, mode="delta")
    deliver(landing, "wjw_csyxzm", "20261103-01", {"part-1.jsonl": births_jsonl(["B5"])},
            mode="delta")  # fmt: skip
    # A CSV line of 20 MB: more than a parser block holds.
    huge = register_csv(
        [register_row("R1"), register_row("R2", address="路" * (7 << 20)), register_row("R3")]
    )
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": huge})
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": register_csv([register_row("R4")])})

    assert outcome_counts(ingest(warehouse_url, landing, BIRTHS)) == {
        "20261101-01": ("partially_quarantined", 1, 1),
        "20261102-01": ("partially_quarantined", 1, 1),
        "20261103-01": ("loaded", 1, 0),
    }
    assert outcome_counts(ingest(warehouse_url, landing)) == {
        "20261101-01": ("partially_quarantined", 2, 1),
        "20261102-01": ("loaded", 1, 0),
    }
    quarantined = quarantined_rows(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        loaded = conn.execute("select rybh from raw.gat_czrk order by 1").fetchall()
    assert [q[:5] for q in quarantined] == [
        ("gat_czrk", "20261101-01", "part-1.csv", 3, "line_too_long"),
        ("wjw_csyxzm", "20261101-01", "part-1.jsonl", 2, "undecodable"),
        ("wjw_csyxzm", "20261102-01", "part-1.jsonl", 2, "line_too_long"),
    ]
    assert all("to do:" in q[5] for q in quarantined)
    assert quarantined[0][6].startswith("R2,") and len(quarantined[0][6]) < 4000
    assert "\\xff\\xfe" in quarantined[1][6]
    assert loaded == [("R1",), ("R3",), ("R4",)]
    counts_add_up(warehouse_url)
    assert ingest(warehouse_url, landing) == {}  # a rerun: nothing again


def test_an_unforeseen_fault_in_reading_a_delivery_rejects_it_alone(
    tmp_path, warehouse_url, clean_ingestion, monkeypatch
):
    """Whatever else a delivered byte makes the parser raise rejects that delivery (with
    the error and what to do), not the dataset's run."""
    from mdm.ingest import files

    landing = tmp_path / "landing"
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": register_csv([register_row("R1")])})
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": register_csv([register_row("R2")])})
    real_convert = files.convert_checked

    calls = []

    def first_call_fails(source, codec, file, sink, sha256=None):  # type: ignore[no-untyped-def]
        calls.append(file)
        if len(calls) == 1:
            raise ValueError("a byte sequence nobody foresaw")
        return real_convert(source, codec, file, sink, sha256)

    monkeypatch.setattr(files, "convert_checked", first_call_fails)
    outcomes = ingest(warehouse_url, landing)
    assert (outcomes["20261101-01"].status, outcomes["20261101-01"].error_code) == (
        "rejected",
        "unreadable",
    )
    assert "ValueError: a byte sequence nobody foresaw" in outcomes["20261101-01"].error
    assert "to do:" in outcomes["20261101-01"].error
    assert outcomes["20261102-01"].status == "loaded"
    counts_add_up(warehouse_url)


def test_skip_clears_a_delivery_stuck_in_loading(
    tmp_path, settings, warehouse_url, clean_ingestion, monkeypatch
):
    """A load that fails the same way on every run (left 'loading') is skipped with
    ``mdm ingest --skip``, its batch table dropped, and the next deliveries load."""
    import shutil

    from mdm.cli import main

    landing = settings.landing_dir
    if landing.exists():
        shutil.rmtree(landing)
    data = register_csv([register_row("R1")])
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data})
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": data})
    real_validate = gate.validate

    def broken_for_day_1(warehouse, spec, mode, schema, table, *args, **kwargs):  # type: ignore[no-untyped-def]
        if table.endswith("20261101_01"):
            raise OSError("the disk under the batch table failed")
        return real_validate(warehouse, spec, mode, schema, table, *args, **kwargs)

    monkeypatch.setattr(gate, "validate", broken_for_day_1)
    for _ in range(2):  # stuck: every run stops at day 1
        assert main(["ingest", "--dataset", "gat_czrk"]) == 1
        assert {k: v["status"] for k, v in ledger(warehouse_url, "gat_czrk").items()} == {
            "20261101-01": "loading"
        }
    assert main(["ingest", "--dataset", "gat_czrk", "--skip", "20261101-01"]) == 0
    entries = ledger(warehouse_url, "gat_czrk")
    assert {k: v["status"] for k, v in entries.items()} == {
        "20261101-01": "skipped",
        "20261102-01": "loaded",
    }
    with psycopg.connect(warehouse_url) as conn:
        leftovers = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'raw' and c.relname = %s",
            (raw_tables.partition_name(REGISTER, "20261101-01"),),
        ).fetchone()[0]
        skipped = conn.execute(
            "select detail ->> 'was' from ops.delivery_event where event = 'skipped'"
        ).fetchall()
    assert leftovers == 0 and skipped == [("loading",)]
    assert main(["ingest", "--dataset", "gat_czrk"]) == 0  # and it stays skipped
    counts_add_up(warehouse_url)


def test_a_resent_delivery_is_recognised_by_its_manifest_not_its_mtime(
    tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    data = register_csv([register_row("R1")])
    folder = deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data}, mode="ful")
    manifest = folder / "_manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert ingest(warehouse_url, landing)["20261101-01"].error_code == "bad_manifest"

    # Re-sent corrected, the manifest keeping its time (a copy that preserves times, a
    # coarse clock): checked again, because its content changed.
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data})
    os.utime(manifest, ns=(stamp, stamp))
    assert ingest(warehouse_url, landing)["20261101-01"].status == "loaded"

    # Re-sent with other content after it loaded, again at the same time: reported once,
    # the loaded version stays.
    other = register_csv([register_row("R1"), register_row("R2")])
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": other})
    os.utime(manifest, ns=(stamp, stamp))
    conflict = ingest(warehouse_url, landing)["20261101-01"]
    assert conflict.status == "conflicting_resend" and "new delivery id" in conflict.error
    assert ingest(warehouse_url, landing) == {}
    assert ledger(warehouse_url, "gat_czrk")["20261101-01"]["rows_loaded"] == 1


def test_a_manifest_written_before_its_files_loads_once_they_arrive(
    tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    data = register_csv([register_row("R1"), register_row("R2")])
    folder = deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data}, write_files=False)
    first = ingest(warehouse_url, landing)["20261101-01"]
    assert (first.status, first.error_code) == ("rejected", "missing_file")
    assert "to do:" in first.error

    (folder / "part-1.csv").write_bytes(data[:40])  # being copied
    partial = ingest(warehouse_url, landing)["20261101-01"]
    assert (partial.status, partial.error_code) == ("rejected", "checksum_mismatch")
    assert ingest(warehouse_url, landing) == {}  # the same again: checked, not reported again

    (folder / "part-1.csv").write_bytes(data)  # the copy completes; the manifest is untouched
    loaded = ingest(warehouse_url, landing)["20261101-01"]
    assert (loaded.status, loaded.rows_loaded) == ("loaded", 2)
    counts_add_up(warehouse_url)


def test_the_rows_loaded_are_the_bytes_whose_checksum_was_checked(
    tmp_path, warehouse_url, clean_ingestion, monkeypatch
):
    """A file replaced after its checksum is checked and before it is read must not load."""
    landing = tmp_path / "landing"
    data = register_csv([register_row("R1", name="原名")])
    folder = deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": data})
    real_create = raw_tables.create_batch_table

    def swap_then_create(conn, spec, delivery_id):  # type: ignore[no-untyped-def]
        (folder / "part-1.csv").write_bytes(register_csv([register_row("R1", name="换了")]))
        return real_create(conn, spec, delivery_id)

    monkeypatch.setattr(raw_tables, "create_batch_table", swap_then_create)
    outcome = ingest(warehouse_url, landing)["20261101-01"]
    with psycopg.connect(warehouse_url) as conn:
        names = conn.execute("select xm from raw.gat_czrk").fetchall()
    assert "换了" not in {n for (n,) in names}
    assert (outcome.status, outcome.error_code) == ("rejected", "checksum_mismatch")


@pytest.mark.parametrize("what", ["file", "folder", "manifest"])
def test_symbolic_links_are_refused(what, tmp_path, warehouse_url, clean_ingestion):
    landing = tmp_path / "landing"
    elsewhere = deliver(tmp_path / "elsewhere", "gat_czrk", "20261101-01",
                        {"part-1.csv": register_csv([register_row("R1")])})  # fmt: skip
    folder = landing / "gat_czrk" / "20261101-01"
    if what == "folder":
        folder.parent.mkdir(parents=True)
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        folder.mkdir(parents=True)
        for path in elsewhere.iterdir():
            if (what == "file") == (path.name != "_manifest.json"):
                (folder / path.name).symlink_to(path)
            else:
                (folder / path.name).write_bytes(path.read_bytes())
    deliver(landing, "gat_czrk", "20261102-01", {"part-1.csv": register_csv([register_row("R2")])})
    outcomes = ingest(warehouse_url, landing)
    assert (outcomes["20261101-01"].status, outcomes["20261101-01"].error_code) == (
        "rejected",
        "symlink",
    )
    assert "symbolic link" in outcomes["20261101-01"].error
    assert "to do:" in outcomes["20261101-01"].error
    assert outcomes["20261102-01"].status == "loaded"
    counts_add_up(warehouse_url)


def test_a_link_appearing_later_leaves_loaded_and_skipped_deliveries_as_they_are(
    tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    loaded = deliver(landing, "gat_czrk", "20261101-01",
                     {"part-1.csv": register_csv([register_row("R1")])})  # fmt: skip
    assert ingest(warehouse_url, landing)["20261101-01"].status == "loaded"
    folder = landing / "gat_czrk" / "20261102-01"
    folder.symlink_to(loaded, target_is_directory=True)
    assert ingest(warehouse_url, landing)["20261102-01"].error_code == "symlink"
    ingest(warehouse_url, landing, skip=["20261102-01"])

    manifest = loaded / "_manifest.json"
    moved = tmp_path / "manifest-elsewhere.json"
    manifest.rename(moved)
    manifest.symlink_to(moved)
    delta = register_csv([register_row("R2") + ["I"]], "delta")
    deliver(landing, "gat_czrk", "20261103-01", {"part-1.csv": delta}, mode="delta")
    assert {k: o.status for k, o in ingest(warehouse_url, landing).items()} == {
        "20261103-01": "loaded"
    }
    assert {k: v["status"] for k, v in ledger(warehouse_url, "gat_czrk").items()} == {
        "20261101-01": "loaded",
        "20261102-01": "skipped",
        "20261103-01": "loaded",
    }
    counts_add_up(warehouse_url)


def test_a_file_larger_than_the_memory_left_loads_streaming(
    tmp_path, warehouse_url, clean_ingestion
):
    """Under an address-space limit a whole-file read of the delivery cannot meet, the
    streaming load still loads every row (run in a subprocess: the limit is per process)."""
    landing = tmp_path / "landing"
    headroom = 256 << 20
    deliver(landing, "gat_czrk", "20261101-01", {"part-1.csv": register_csv([register_row("W1")])})
    folder = landing / "gat_czrk" / "20261102-01"
    folder.mkdir(parents=True)
    big = folder / "part-1.csv"
    digest, rows, address = hashlib.sha256(), 0, "长" * 300  # ~1 kB rows
    with open(big, "wb") as handle:
        header = register_csv([])
        handle.write(header)
        digest.update(header)
        while handle.tell() < headroom * 5 // 4:
            chunk = register_csv([register_row(f"R{rows + i:08d}", address=address)
                                  for i in range(10_000)])[len(header):]  # fmt: skip
            handle.write(chunk)
            digest.update(chunk)
            rows += 10_000
    entry = {"name": "part-1.csv", "rows": rows, "sha256": digest.hexdigest()}
    manifest = {"dataset": "gat_czrk", "delivery_id": "20261102-01", "mode": "full",
                "encoding": "UTF-8", "files": [entry]}  # fmt: skip
    (folder / "_manifest.json").write_text(json.dumps(manifest))
    assert big.stat().st_size > headroom

    script = Path(__file__).with_name("limited_memory_load.py")
    # The system allocators, one malloc arena: address space then follows what is used.
    env = {**os.environ, "MALLOC_ARENA_MAX": "1", "ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run(  # noqa: S603 - our interpreter and script
        [sys.executable, str(script), warehouse_url, str(landing), str(big), str(headroom)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["whole_read"] == "MemoryError", "the limit must be below a whole-file read"
    assert [tuple(o[:3]) for o in result["outcomes"]] == [
        ("20261101-01", "loaded", 1),
        ("20261102-01", "loaded", rows),
    ], result
    counts_add_up(warehouse_url)
