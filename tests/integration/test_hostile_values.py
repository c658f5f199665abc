"""Quotes, semicolons, backslashes, SQL keywords and control characters in delivered values
flow through ingestion and dbt unchanged and harmless."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import psycopg
import pytest
from ingest_support import reset_ingestion

from mdm import build
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.registry import dataset

pytestmark = pytest.mark.integration

HOSTILE = [
    "O'Brien",
    "张三'); drop table raw.gat_czrk; --",
    "back\\slash\\\\double",
    'say "hello", then leave',
    "select * from mdm.natural_person",
    "bell\x07and\x1bescape",
    "tab\tinside",
    "two\nlines",
    "$$dollar$$quoted",
    "%(name)s %s {}",
]
# Without quote characters in the file, the file is COPYed as delivered: test that path too.
UNQUOTED = [
    "semi;colon",
    "back\\slash",
    "drop table mdm.natural_person",
    "it's",
    "a\\nb",
    "--comment",
]


def _register(rows: list[list[str]]) -> bytes:
    spec = dataset("gat_czrk")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(spec.file_columns("full"))
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _row(key: str, name: str) -> list[str]:
    return [key, "11010519491231002X", name, "", "2", "01", "19491231", "450102", name, "0", "",
            "20261101020304"]  # fmt: skip


def _deliver(landing, delivery_id: str, data: bytes) -> None:
    folder = landing / "gat_czrk" / delivery_id
    folder.mkdir(parents=True)
    (folder / "part-1.csv").write_bytes(data)
    rows = len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) - 1
    manifest = {
        "dataset": "gat_czrk",
        "delivery_id": delivery_id,
        "mode": "full",
        "encoding": "UTF-8",
        "files": [{"name": "part-1.csv", "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}],
    }
    (folder / "_manifest.json").write_text(json.dumps(manifest))


def test_hostile_values_arrive_unchanged(tmp_path, settings, warehouse_url):
    reset_ingestion(warehouse_url)
    landing = tmp_path / "landing"
    warehouse = params_from_url(warehouse_url)
    spec = dataset("gat_czrk")

    quoted = _register([_row(f"H{i}", v) for i, v in enumerate(HOSTILE)])
    assert b'"' in quoted
    _deliver(landing, "20261101-01", quoted)
    first = ingest_file_drops(warehouse, landing, spec, "hostile").outcomes[0]
    assert (first.status, first.rows_loaded) == ("loaded", len(HOSTILE))
    with psycopg.connect(warehouse_url) as conn:
        stored = dict(conn.execute("select rybh, xm from raw.gat_czrk").fetchall())
    assert stored == {f"H{i}": v for i, v in enumerate(HOSTILE)}

    rows = [_row(f"U{i}", v) for i, v in enumerate(UNQUOTED)]
    rows[0][1] = ""  # no ID number: a singleton, so Splink scores this hostile name too
    unquoted = _register(rows)
    assert b'"' not in unquoted
    _deliver(landing, "20261102-01", unquoted)
    second = ingest_file_drops(warehouse, landing, spec, "hostile").outcomes[0]
    assert (second.status, second.rows_loaded) == ("loaded", len(UNQUOTED))

    build.build_observations(settings, warehouse, "hostile")
    with psycopg.connect(warehouse_url) as conn:
        staged = dict(conn.execute("select record_key, name from staging.stg_gat_czrk__residents"))
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_name = 'gat_czrk'"
        ).fetchone()[0]
        # The rule applied to each value handed over as a query parameter, not a file.
        expected = {
            f"U{i}": conn.execute("select std.clean_name(%s)", (v,)).fetchone()[0]
            for i, v in enumerate(UNQUOTED)
        }
    # The last full holds the unquoted rows; names standardise exactly as the rule does.
    assert staged == expected
    assert tables == 1

    # Entity resolution (deterministic keys, then Splink on DuckDB) takes them as data too.
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("truncate resolve.person_record, resolve.entity_event")
    resolved = build.resolve_entities(warehouse, "hostile")
    # One ID number under five different names: it keys the one record whose name it has
    # (the smallest of tied names); the four others name someone else (a relative's number,
    # ADR 0009 item 13) and Splink scores them with the record without a number.
    assert resolved["person_record"]["relatives_numbers"] == len(UNQUOTED) - 2
    assert resolved["splink_person"]["records_scored"] == len(UNQUOTED) - 1
    with psycopg.connect(warehouse_url) as conn:
        people = conn.execute(
            "select count(distinct person_id), count(*) from resolve.person_record "
            "where dataset = 'gat_czrk'"
        ).fetchone()
    # Six names, six people: no name links to another on the number or on sound.
    assert people == (len(UNQUOTED), len(UNQUOTED))
