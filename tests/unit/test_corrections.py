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
    ],
)
def test_delivered_column_is_the_standards_spelling(dataset, column, expected):
    assert corrections.delivered_column(dataset, column) == expected


@pytest.mark.parametrize(("dataset", "column"), [("gat_czrk", "NOPE"), ("gat_czrk", "")])
def test_a_column_the_dataset_lacks_is_refused_with_its_columns(dataset, column):
    with pytest.raises(ValueError, match="GMSFHM"):
        corrections.delivered_column(dataset, column)


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
