"""The certificate repository's pure parts (issue 20, ADR 0018), without a database: what a
holder query names, the rate table's text, the truth's rates and the evaluation of matching,
and the generator's disagreeing surface value."""

from __future__ import annotations

import random

import pytest

from mdm.certificates import format_rate_table, holder_query_kind
from mdm_tools.evaluate_certificates import certificate_accuracy, true_rates
from mdm_tools.generate.certificates import _disagree

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("P0000000653", "person_id"),
        ("L0000000083", "legal_person_id"),
        ("45010519491231002X", "id_number"),
        ("45010519491231002x", "id_number"),  # a lower-case x
        (" 4501051949 1231002X ", "id_number"),  # spaces
        ("450105491231002", "id_number"),  # the legacy 15 digits
        ("91350100M000100Y43", "credit_code"),
        ("92450222cqq551hu8l", "credit_code"),
        ("91350100M000100Y4", "unknown"),  # one character short
        ("张三", "unknown"),
        ("", "unknown"),
    ],
)
def test_a_holder_query_names_what_it_looks_like(query, kind):
    assert holder_query_kind(query) == kind


def _row(zzbs, holder, gap="", city="450100", ywlsh_missing="0", duplicate_of="", zzlxdm="JHZ"):
    return {
        "zzbs": zzbs, "zzlxdm": zzlxdm, "business_key": holder.split("#")[0] if holder else "",
        "holder_record": holder, "city": city, "gap": gap, "ywlsh_missing": ywlsh_missing,
        "duplicate_of": duplicate_of,
    }  # fmt: skip


TRUTH = [
    _row("A", "M1#NAN"),
    _row("B", "M1#NV", gap="layout_only"),
    _row("", "M2#NAN", gap="never_aggregated", city="450200"),
    _row("C", "M2#NV", city="450200", ywlsh_missing="1"),
    _row("D", "M2#NV", city="450200", ywlsh_missing="1", duplicate_of="C"),
    _row("E", "", gap="orphan", ywlsh_missing="1"),
    _row("F", "Y1", zzlxdm="YYZZ", gap="disagreeing_field", ywlsh_missing="1"),
]


def test_the_truth_counts_each_business_certificate_once_and_no_orphan():
    assert true_rates(TRUTH) == {
        ("JHZ", "450100"): (2, 1),
        ("JHZ", "450200"): (2, 1),
        ("JHZ", "450000"): (4, 2),
        ("YYZZ", "450100"): (1, 0),
        ("YYZZ", "450000"): (1, 0),
    }


@pytest.mark.parametrize(
    ("matched", "with_ywlsh", "without_ywlsh", "orphans_kept", "recognised"),
    [
        # every certificate to its record, the copy recognised, the orphan kept
        ({"A": ("M1#NAN", None), "B": ("M1#NV", None), "C": ("M2#NV", None),
          "D": ("M2#NV", "C"), "F": ("Y1", None)},
         (1.0, 1.0), (1.0, 1.0), 1, 1),
        # the orphan forced onto a record, one certificate on the wrong spouse's record
        ({"A": ("M1#NV", None), "B": ("M1#NV", None), "C": ("M2#NV", None),
          "D": ("M2#NV", "C"), "E": ("M2#NAN", None), "F": ("Y1", None)},
         (0.5, 0.5), (0.75, 1.0), 0, 1),
        # nothing matched without ywlsh: precision 1 of none, recall 0; copies not recognised
        ({"A": ("M1#NAN", None), "B": ("M1#NV", None)}, (1.0, 1.0), (1.0, 0.0), 1, 0),
    ],
)  # fmt: skip
def test_matching_precision_and_recall(
    matched, with_ywlsh, without_ywlsh, orphans_kept, recognised
):
    result = certificate_accuracy(TRUTH, matched, true_rates(TRUTH))
    assert (result["with_ywlsh"]["precision"], result["with_ywlsh"]["recall"]) == with_ywlsh
    assert (result["without_ywlsh"]["precision"], result["without_ywlsh"]["recall"]) == (
        without_ywlsh
    )
    assert result["orphans"] == {"true": 1, "kept_unmatched": orphans_kept}
    assert result["duplicates"]["recognised"] == recognised


def test_rates_equal_only_when_every_cell_is_the_truths():
    rates = true_rates(TRUTH)
    assert certificate_accuracy(TRUTH, {}, rates)["rates"]["equal"] == 5
    off = rates | {("JHZ", "450200"): (2, 2), ("LHZ", "450100"): (1, 1)}
    result = certificate_accuracy(TRUTH, {}, off)["rates"]
    assert result["equal"] == 4
    assert [d[0] for d in result["differences"]] == [("JHZ", "450200"), ("LHZ", "450100")]
    assert result["by_type"]["JHZ"] == {"rate": 0.5, "true_rate": 0.5}


def test_outcome_differences_name_their_class():
    outcomes = {
        ("JHZ", "M1#NAN"): ("450100", True, None),  # as the truth
        ("JHZ", "M1#NV"): ("450100", True, None),  # structured despite layout_only
        ("JHZ", "M2#NAN"): ("450300", False, "never_aggregated"),  # another prefecture
        ("JHZ", "M2#NV"): ("450200", False, "nfxm disagrees"),  # not structured, clean
        ("JHZ", "M9#NV"): ("450200", True, None),  # no such certificate in the truth
        # YYZZ Y1 missing: expected by the truth only
    }
    found = certificate_accuracy(TRUTH, {}, true_rates(TRUTH), outcomes)["outcomes"]
    assert found["classes"] == {
        "structured_despite_layout_only": 1,
        "prefecture": 1,
        "not_structured: nfxm disagrees": 1,
        "expected_by_platform_only": 1,
        "expected_by_truth_only": 1,
    }
    assert len(found["examples"]) == 5
    assert certificate_accuracy(TRUTH, {}, true_rates(TRUTH))["outcomes"] == {}


def test_the_rate_table_says_which_types_miss_the_target():
    rows = [
        {"certificate_type": "JHZ", "prefecture_code": "450000", "expected": 10, "in_library": 9,
         "valid": 9, "structured": 7, "structured_rate": 0.7, "meets_target": False,
         "main_reasons": "layout_only (2); never_aggregated (1)"},
        {"certificate_type": "JHZ", "prefecture_code": "450100", "expected": 4, "in_library": 4,
         "valid": 4, "structured": 4, "structured_rate": 1.0, "meets_target": True,
         "main_reasons": None},
    ]  # fmt: skip
    lines = format_rate_table(rows)
    assert len(lines) == 3
    assert "province" in lines[1] and "70.0%" in lines[1] and "NO" in lines[1]
    assert "layout_only (2)" in lines[1]
    assert "450100" in lines[2] and "100.0%" in lines[2] and "yes" in lines[2]
    assert len(format_rate_table(rows, province_only=True)) == 2


@pytest.mark.parametrize(
    "value", ["张三", "李", "2026-01-02", "450103199001011234", "有限责任公司"]
)
def test_a_disagreeing_surface_value_never_equals_the_true_one(value):
    for seed in range(300):
        assert _disagree(random.Random(seed), value) != value
