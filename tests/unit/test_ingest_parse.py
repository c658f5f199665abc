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
        (
            f"{HEADER}\n{social_row('S1')}\n{social_row('S2')}\n".encode("gb18030"),
            "utf-8",
            "undecodable",
            2,
        ),
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


# Poison in a file (issue #16): a bad value is a quarantined row, a bad file a rejection that
# says where; nothing raises anything but DeliveryRejectedError.

REGISTER_DELTA = ",".join(REGISTER.file_columns("delta"))
REGISTER_ROW = "R1,450103199001011234,张三,,1,01,19900101,450103,民主路1号,0,,20261102020304"


@pytest.mark.parametrize("quoted", [False, True], ids=["unquoted", "quoted"])
def test_a_nul_character_in_a_csv_value_quarantines_its_row(quoted):
    name = '"张\x00三"' if quoted else "张\x00三"
    text = f"{HEADER}\n{social_row('S1')}\n{social_row('S2', name=name)}\n{social_row('S3')}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert [r["shzzid"] for r in parsed.table.to_pylist()] == ["S1", "S3"]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [(3, "nul_byte")]
    assert "\x00" not in parsed.quarantined[0].raw_text
    assert "\\x00" in parsed.quarantined[0].raw_text
    assert parsed.records == 3


def test_a_nul_character_in_a_jsonl_value_or_key_quarantines_its_row():
    lines = [
        '{"cszmbh": "T1", "xsexm": "小\\u0000明", "gxsj": "2026-11-01 10:00:00", "czbs": "I"}',
        '{"cszmbh": "T2", "x\\u0000": 1, "gxsj": "2026-11-01 10:00:00", "czbs": "I"}',
        '{"cszmbh": "T3", "xsexm": "\\ud800", "gxsj": "2026-11-01 10:00:00", "czbs": "I"}',
        '{"cszmbh": "T4", "xsexm": "\\u5c0f", "gxsj": "2026-11-01 10:00:00", "czbs": "I"}',
    ]
    data = ("\n".join(lines) + "\n").encode()
    parsed = parse_jsonl(BIRTHS, "delta", "p.jsonl", data, "utf-8")
    assert [r["cszmbh"] for r in parsed.table.to_pylist()] == ["T4"]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [
        (1, "nul_byte"),
        (2, "nul_byte"),
        (3, "invalid_unicode"),
    ]
    assert parsed.records == 4


def test_invalid_bytes_in_a_value_quarantine_their_row_with_the_bytes():
    good = b'{"cszmbh": "T1", "mqxm": "\xe6\x9d\x8e", "gxsj": "2026-11-01 10:00:00"}\n'
    bad = b'{"cszmbh": "T2", "xsexm": "\xff\xfe", "gxsj": "2026-11-01 10:00:00"}\n'
    parsed = parse_jsonl(BIRTHS, "delta", "p.jsonl", good + bad + good, "utf-8")
    assert [r["_line"] for r in parsed.table.to_pylist()] == [1, 3]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [(2, "undecodable")]
    assert "\\xff\\xfe" in (parsed.quarantined[0].raw_text or "")
    assert parsed.records == 3
    # CSV, GB18030: 协 and 会 with a byte 0xFF (never GB18030) between them in one name.
    broken = social_row("S2", name="NAME").encode().replace(b"NAME", b"\xd0\xad\xff\xbb\xe1")
    data = (
        b"\n".join(
            [
                HEADER.encode(),
                social_row("S1").encode("gb18030"),
                broken,
                social_row("S3").encode("gb18030"),
            ]
        )
        + b"\n"
    )
    parsed = parse_csv(SOCIAL, "full", "p.csv", data, "gb18030")
    assert [r["shzzid"] for r in parsed.table.to_pylist()] == ["S1", "S3"]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [(3, "undecodable")]
    assert parsed.records == 3


def test_a_file_whose_lines_mostly_do_not_decode_is_rejected():
    # GB18030 declared UTF-8: every line with Chinese fails, not a value here and there.
    lines = [f'{{"cszmbh": "T{i}", "mqxm": "李四", "gxsj": "2026-11-01"}}' for i in range(3)]
    with pytest.raises(DeliveryRejectedError) as caught:
        parse_jsonl(
            BIRTHS, "delta", "p.jsonl", ("\n".join(lines) + "\n").encode("gb18030"), "utf-8"
        )
    assert (caught.value.code, caught.value.line) == ("undecodable", 1)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_line_over_a_megabyte_quarantines_its_row_with_its_line(fmt):
    from mdm.ingest.parse import MAX_LINE_BYTES

    if fmt == "csv":
        long = social_row("S2", name="名" * (MAX_LINE_BYTES // 2))
        text = f"{HEADER}\n{social_row('S1')}\n{long}\n{social_row('S3')}\n"
        parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
        keys = [r["shzzid"] for r in parsed.table.to_pylist()]
    else:
        long = '{"cszmbh": "T2", "xsexm": "' + "x" * (3 * MAX_LINE_BYTES) + '"}'
        text = '{"cszmbh": "T1", "gxsj": "2026-11-01 10:00:00"}\n' + long + "\n"
        text += '{"cszmbh": "T3", "gxsj": "2026-11-01 10:00:00"}\n'
        parsed = parse_jsonl(BIRTHS, "delta", "p.jsonl", text.encode(), "utf-8")
        keys = [r["cszmbh"] for r in parsed.table.to_pylist()]
    assert keys == (["S1", "S3"] if fmt == "csv" else ["T1", "T3"])
    assert parsed.records == 3
    (row,) = parsed.quarantined
    assert (row.line, row.reason_code) == (
        (3, "line_too_long") if fmt == "csv" else (2, "line_too_long")
    )
    assert "to do:" in row.reason and len(row.raw_text or "") < 4000  # the start, not 1 MB


def test_a_header_line_over_a_megabyte_rejects_the_file():
    from mdm.ingest.parse import MAX_LINE_BYTES

    text = f"{HEADER},{'B' * MAX_LINE_BYTES}\n{social_row('S1')},x\n"
    with pytest.raises(DeliveryRejectedError) as caught:
        parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert (caught.value.code, caught.value.line) == ("line_too_long", 1)


def test_a_line_just_under_the_limit_across_reads_loads():
    from mdm.ingest.parse import MAX_LINE_BYTES

    # The long value starts near the end of the first read and ends in the second; as
    # UTF-8 it is half as long again as delivered (GB18030: two bytes, UTF-8: three).
    pad = social_row("S0", name="x" * (MAX_LINE_BYTES - 2000))
    name = "名" * (MAX_LINE_BYTES // 2 - 100)
    text = f"{HEADER}\n{pad}\n{social_row('S1', name=name)}\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert [r["zzmc"] for r in parsed.table.to_pylist()][1] == name


def test_a_header_field_too_long_for_the_csv_module_rejects_not_raises():
    text = f"{HEADER},{'B' * 200_000}\n{social_row('S1')},x\n"
    with pytest.raises(DeliveryRejectedError) as caught:
        parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    assert (caught.value.code, caught.value.line) == ("bad_header", 1)


def test_czbs_d_in_a_full_delivery_is_quarantined_not_loaded_as_live():
    header = ",".join(REGISTER.file_columns("delta"))  # a full that carries CZBS anyway
    rows = [f"{REGISTER_ROW},I", REGISTER_ROW.replace("R1", "R2") + ", d ", f"{REGISTER_ROW},"]
    text = f"{header}\n" + "\n".join(rows) + "\n"
    parsed = parse_csv(REGISTER, "full", "p.csv", text.encode("utf-8"), "utf-8")
    assert [r["rybh"] for r in parsed.table.to_pylist()] == ["R1", "R1"]
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [(3, "delete_in_full")]
    assert parsed.records == 3


def test_quarantined_lines_are_placed_across_parse_batches(monkeypatch):
    from mdm.ingest import parse

    monkeypatch.setattr(parse, "CSV_BLOCK_BYTES", 4096)  # many small batches
    rows = []
    for i in range(2000):
        if i % 97 == 5:
            rows.append(f"S{i},only,three")
        elif i % 89 == 7:
            rows.append(social_row(f"S{i}", name='"两\n行"'))
        elif i % 83 == 3:
            rows.append(social_row(f"S{i}", gxsj="never"))
        else:
            rows.append(social_row(f"S{i}"))
    text = HEADER + "\n" + "\n".join(rows) + "\n"
    parsed = parse_csv(SOCIAL, "full", "p.csv", text.encode("gb18030"), "gb18030")
    lines, line = {}, 2
    for i, row in enumerate(rows):
        lines[i] = line
        line += 1 + row.count("\n")
    loaded = {r["shzzid"]: r["_line"] for r in parsed.table.to_pylist()}
    assert loaded == {
        f"S{i}": lines[i] for i in range(2000) if not (i % 97 == 5 or (i % 83 == 3 and i % 89 != 7))
    }
    quarantined = {(q.line, q.reason_code, q.raw_text) for q in parsed.quarantined}
    assert quarantined == {
        (lines[i], "wrong_field_count", rows[i]) for i in range(2000) if i % 97 == 5
    } | {
        (lines[i], "unparseable_gxsj", rows[i])
        for i in range(2000)
        if i % 83 == 3 and i % 97 != 5 and i % 89 != 7
    }
    assert parsed.records == 2000


def test_a_nul_inside_an_object_value_quarantines_its_row():
    certificates = dataset("dzzz_zzxx")  # zmxx: the surface data, a JSON object
    line = (
        '{{"zzbs": "{key}", "zzlxdm": "JHZ", "zmxx": {zmxx}, '
        '"gxsj": "2026-11-01 10:00:00", "czbs": "I"}}'
    )
    lines = [
        line.format(key="Z1", zmxx='{"nfxm": "韦\\u0000强"}'),
        line.format(key="Z2", zmxx='{"nfxm": "韦强", "bq": ["\\u0000"]}'),
        line.format(key="Z3", zmxx='{"nfxm": "韦强\\u5f3a"}'),
    ]
    data = ("\n".join(lines) + "\n").encode()
    parsed = parse_jsonl(certificates, "delta", "p.jsonl", data, "utf-8")
    assert [(q.line, q.reason_code) for q in parsed.quarantined] == [
        (1, "nul_byte"),
        (2, "nul_byte"),
    ]
    assert [r["zmxx"] for r in parsed.table.to_pylist()] == ['{"nfxm": "韦强强"}']
