"""The correction loop's pure parts (issue 21): the column as the standard spells it, the
outbox file of standard 6.1 and its delivery ids."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from mdm import corrections

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("dataset", "column", "expected"),
    [
        ("gat_czrk", "gmsfhm", "GMSFHM"),  # CSV: upper case
        ("mzt_hydj", "NV_ZJHM", "NV_ZJHM"),
        ("wjw_csyxzm", "mqsfzjhm", "mqsfzjhm"),  # JSONL: lower-case keys
        ("swj_dwnsr", "fddbrsfzjhm", "FDDBRSFZJHM"),  # front-end: as the standard writes it
        ("dzzz_zzxx", "zmxx.mc", "zmxx.mc"),  # a certificate's surface field: a key of zmxx
        ("dzzz_zzxx", "ZZZT", "zzzt"),
    ],
)
def test_delivered_column_is_the_standards_spelling(dataset, column, expected):
    assert corrections.delivered_column(dataset, column) == expected


@pytest.mark.parametrize(
    ("dataset", "column", "listed"),
    [
        ("gat_czrk", "NOPE", "GMSFHM"),
        ("gat_czrk", "", "GMSFHM"),
        ("gat_czrk", "GMSFHM.x", "GMSFHM"),  # a key of a column that holds no JSON object
        ("dzzz_zzxx", "zmxx.", "zmxx"),
    ],
)
def test_a_column_the_dataset_lacks_is_refused_with_its_columns(dataset, column, listed):
    with pytest.raises(ValueError, match=listed):
        corrections.delivered_column(dataset, column)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('{"mc": "某公司", "zczb": 12.5}', "mc", "某公司"),
        ('{"mc": "某公司", "zczb": 12.5}', "zczb", "12.5"),  # as PostgreSQL's ->> gives it
        ('{"mc": ""}', "mc", ""),
        ('{"mc": null}', "mc", ""),
        ("{}", "mc", ""),
        (None, "mc", ""),
        ("not json", "mc", ""),
        ('["mc"]', "mc", ""),
    ],
)
def test_a_surface_field_is_read_from_its_json_column(text, key, expected):
    assert corrections.json_value(text, key) == expected


def test_outbox_drop_is_the_standards_file_with_its_manifest_written_last(tmp_path):
    day = dt.date(2026, 11, 2)
    row = dict.fromkeys(corrections.OUTBOX_COLUMNS, "")
    rows = [row | {"JCBH": "JC1", "ZJ": 'a "quoted", comma'}, row | {"JCBH": "JC2"}]
    first = corrections.write_outbox_delivery(tmp_path, "gat_czrk", "公安厅", day, rows)
    second = corrections.write_outbox_delivery(tmp_path, "gat_czrk", "公安厅", day, rows[:1])
    assert (first.delivery_id, second.delivery_id) == ("20261102-01", "20261102-02")
    data = (first.folder / "corrections.csv").read_text("utf-8")
    parsed = list(csv.DictReader(io.StringIO(data)))
    assert [r["JCBH"] for r in parsed] == ["JC1", "JC2"]
    assert parsed[0]["ZJ"] == 'a "quoted", comma' and tuple(parsed[0]) == corrections.OUTBOX_COLUMNS
    manifest = json.loads((first.folder / "_manifest.json").read_text("utf-8"))
    assert manifest["mode"] == "corrections" and manifest["files"][0]["rows"] == 2
    assert manifest["extract_time"] == "2026-11-02T08:00:00+08:00"
