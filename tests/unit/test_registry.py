"""The registry describes the nineteen datasets of interface standard v2 consistently."""

from __future__ import annotations

import re

import pytest

from mdm.registry import allowed_codes, code_lists, code_set_regex, datasets

pytestmark = pytest.mark.unit

V1 = ("gat_czrk", "mzt_hydj", "swj_grnsr", "rst_cbry", "wjw_csyxzm", "jyt_xsxj", "scjgj_qydj",
      "bb_sydwdj", "mzt_shzz", "swj_dwnsr")  # fmt: skip
V2 = ("sft_jgdj", "sft_zyry", "dzzz_zzxx", "gjj_dwjc", "sdq_jfxx", "xyb_xzcf", "fy_sxbzxr",
      "xyd_sq", "jcfk")  # fmt: skip


def test_the_nineteen_datasets_in_the_standards_order():
    assert tuple(datasets()) == V1 + V2


@pytest.mark.parametrize("code", V1 + V2)
def test_each_dataset_is_described_whole(code):
    spec = datasets()[code]
    names = [c.name.upper() for c in spec.columns]
    assert len(set(names)) == len(names)
    assert {k.upper() for k in spec.record_key} <= set(names)
    assert "GXSJ" in names and all(c.meaning for c in spec.columns)
    assert spec.channel in ("file", "frontend_db")
    if spec.channel == "frontend_db":
        assert spec.table and "SCBZ" in names and all(c.sql_type for c in spec.columns)
    else:
        assert spec.format in ("csv", "jsonl") and spec.encoding in (
            "UTF-8",
            "UTF-8-BOM",
            "GB18030",
        )
    assert set(spec.cadence) <= {"full", "delta", "pull"}
    for field in ("resource_code", "share_type", "open_type", "update_cycle", "summary"):
        assert spec.catalogue.get(field), (code, field)
    for column in spec.columns:
        assert isinstance(column.codes, dict | None) or column.codes in code_lists()
        assert column.separator is None or allowed_codes(column), (code, column.name)


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        ("罚款", True),
        ("罚款;警告", True),
        (" 罚款 ; 没收违法所得 ", True),
        ("责令停产停业;罚款;警告", True),
        ("罚款;", False),
        (";罚款", False),
        ("罚款;;警告", False),
        ("罚款,警告", False),
        ("罚金", False),
        ("罚款警告", False),
    ],
)
def test_several_codes_in_one_value(value, matches):
    codes = allowed_codes(next(c for c in datasets()["xyb_xzcf"].columns if c.name == "CFLB"))
    assert codes is not None
    assert bool(re.match(code_set_regex(codes, ";"), value)) is matches
