"""Parsing delivered files: delivery-level faults raise, row-level faults are quarantined."""

from __future__ import annotations

import pytest

from mdm.ingest.errors import DeliveryRejectedError
from mdm.ingest.parse import parse_csv, parse_jsonl
from mdm.registry import dataset

pytestmark = pytest.mark.unit

SOCIAL = dataset("mzt_shzz")  # full-only CSV, GB18030
REGISTER = dataset("gat_czrk")  # CSV with deltas
BIRTHS = dataset("wjw_csyxzm")  # JSONL
HEADER = ",".join(SOCIAL.file_columns("full"))


def social_row(key: str, name: str = "南宁市书法协会", gxsj: str = "20261101020304") -> str:
    return f"{key},51450100MJ0000001X,{name},社会团体,张三,,,,,2001-01-01,1,{gxsj}"


def test_clean_file_keeps_every_value_as_text_with_its_line():
    text = f"{HEADER}\r\n{social_row('S1')}\r\n{social_row('S2')}\r\n"
    parsed = parse_csv(SOCIAL, "full", "part-all.csv", text.encode("gb18030"), "gb18030")
    assert parsed.records == 2 and parsed.quarantined == []
    rows = parsed.table.to_pylist()
    assert [r["_line"] for r in rows] == [2, 3]
    assert rows[0]["zzmc"] == "南宁市书法协会" and rows[0]["fddbrsfzh"] is None
    assert "_operation" not in rows[0]  # a full's operation (F) is the batch table's default


def test_quoted_newlines_keep_physical_line_numbers():
    text = (
        f"{HEADER}\n{social_row('S1', name=chr(34) + '两行' + chr(10) + '名称' + chr(34))}\n"
        f"{social_row('S2')},extra\n{social_row('S3')}\n"
    )
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert [r["_line"] for r in parsed.table.to_pylist()] == [2, 5]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [(4, "wrong_field_count")]
    assert parsed.records == 3


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (social_row("", gxsj="20261101020304"), "missing_record_key"),
        (social_row("S9", gxsj="2026/11/01"), "unparseable_gxsj"),
        (social_row("S9", gxsj="20261301020304"), "unparseable_gxsj"),
        (social_row("S9", gxsj=""), "unparseable_gxsj"),
        ("S9,only,three", "wrong_field_count"),
    ],
)
def test_rows_that_cannot_be_placed_are_quarantined_with_raw_text(row, reason):
    text = f"{HEADER}\n{social_row('S1')}\n{row}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert parsed.table.num_rows == 1
    assert [(q.line, q.reason_code, q.raw_text) for q in parsed.quarantined] == [(3, reason, row)]


@pytest.mark.parametrize("gxsj", ["20261101020304", "2026-11-01 02:03:04", " 2026-11-01T02:03:04 "])
def test_both_gxsj_forms_of_the_standard_are_accepted(gxsj):
    text = f"{HEADER}\n{social_row('S1', gxsj=gxsj)}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert parsed.quarantined == []


def test_delta_operations_are_normalised_and_invalid_ones_quarantined():
    header = ",".join(REGISTER.file_columns("delta"))
    base = "R1,450103199001011234,张三,,1,01,19900101,450103,民主路1号,0,,20261102020304"
    text = f"\ufeff{header}\n{base},u\n{base.replace('R1', 'R2')},X\n"
    parsed = parse_csv(REGISTER, "delta", "p.csv", text.encode("utf-8"), "utf-8")
    assert [r["_operation"] for r in parsed.table.to_pylist()] == ["U"]
    assert [q.reason_code for q in parsed.quarantined] == ["invalid_operation"]


def test_header_is_matched_case_and_space_insensitively_and_extras_are_recorded():
    header = HEADER.lower().replace("zzmc", " zzmc ") + ",BZ"
    text = f"{header}\n{social_row('S1')},备注\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert parsed.extra_columns == ["BZ"] and "bz" not in parsed.table.column_names
    assert parsed.table.to_pylist()[0]["zzmc"] == "南宁市书法协会"


def test_a_missing_optional_column_loads_as_null_and_is_recorded():
    columns = SOCIAL.file_columns("full")
    header = ",".join(c for c in columns if c != "YWZGDW")
    row = social_row("S1").split(",")
    del row[columns.index("YWZGDW")]
    text = f"{header}\n{','.join(row)}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert parsed.missing_columns == ["YWZGDW"]
    assert parsed.table.to_pylist()[0]["ywzgdw"] is None


@pytest.mark.parametrize(
    ("data", "codec", "code", "line"),
    [
        (b"", "gb18030", "empty_file", None),
        (f"{HEADER}\n{social_row('S1')}".encode("gb18030"), "gb18030", "truncated_file", 2),
        (f"{HEADER}\n{social_row('S1')}\n".encode("gb18030"), "utf-8", "undecodable", 2),
        (f"{HEADER}\n{social_row('S1')}\n".encode(), "gb18030", "encoding_mismatch", None),
        (
            f"{HEADER.replace('ZZMC,', '')}\n{social_row('S1')}\n".encode("gb18030"),
            "gb18030",
            "missing_required_column",
            1,
        ),
        (f"{HEADER},SHZZID\n".encode("gb18030"), "gb18030", "bad_header", 1),
    ],
    ids=["empty", "truncated", "gb18030-declared-utf8", "utf8-declared-gb18030", "missing", "dup"],
)
def test_delivery_level_faults_reject_with_where(data, codec, code, line):
    with pytest.raises(DeliveryRejectedError) as caught:
        parse_csv(SOCIAL, "full", "part-1.csv", data, codec)
    assert caught.value.code == code and caught.value.line == line
    assert caught.value.describe("mzt_shzz", "20261101-01").startswith(
        "mzt_shzz/20261101-01/part-1.csv"
    )


def test_gbk_only_characters_decode_as_gb18030():
    # 𠀀 exists only in GB18030 (four bytes); a GBK decoder would fail on it.
    text = f"{HEADER}\n{social_row('S1', name='𠀀协会')}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert parsed.table.to_pylist()[0]["zzmc"] == "𠀀协会"


def test_jsonl_missing_keys_and_nulls_are_missing_and_bad_lines_quarantined():
    lines = [
        '{"cszmbh": "T1", "xsexm": "小明", "fqxm": null, "gxsj": "2026-11-01 10:00:00", "x": 1}',
        "{not json",
        '{"cszmbh": "", "gxsj": "2026-11-01 10:00:00"}',
        "",
        '{"cszmbh": "T2", "mqnl": 31, "gxsj": "2026-11-01 10:00:00"}',
    ]
    parsed = parse_jsonl(BIRTHS, "delta", "p.jsonl", ("\n".join(lines) + "\n").encode(), "utf-8")
    rows = parsed.table.to_pylist()
    assert [r["cszmbh"] for r in rows] == ["T1", "T2"] and [r["_line"] for r in rows] == [1, 5]
    assert rows[0]["fqxm"] is None and rows[1]["mqnl"] == "31"
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [
        (2, "invalid_json"),
        (3, "missing_record_key"),
    ]
    assert parsed.records == 4 and parsed.extra_columns == ["x"]


def test_empty_jsonl_is_an_empty_delta_not_a_fault():
    parsed = parse_jsonl(BIRTHS, "delta", "p.jsonl", b"", "utf-8")
    assert parsed.records == 0 and parsed.table.num_rows == 0
