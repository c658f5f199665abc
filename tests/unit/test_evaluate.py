"""Resolution quality measures against a truth: pairwise metrics and twins made one."""

from __future__ import annotations

import pytest

from mdm_tools.evaluate import pairwise, read_twin_pairs, twins_merged

pytestmark = pytest.mark.unit

TRUTH = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "c2": "C"}


@pytest.mark.parametrize(
    ("predicted", "precision", "recall", "over_merged", "split"),
    [
        ({"a1": "1", "a2": "1", "b1": "2", "c1": "3", "c2": "3"}, 1.0, 1.0, 0, 0),
        # A and B made one: one false pair of three predicted (a1-b1, a2-b1 wrong)
        ({"a1": "1", "a2": "1", "b1": "1", "c1": "3", "c2": "3"}, 0.5, 1.0, 1, 0),
        # C split in two: no false pair, one of two true pairs missed
        ({"a1": "1", "a2": "1", "b1": "2", "c1": "3", "c2": "4"}, 1.0, 0.5, 0, 1),
        # c2 lost from the output: its pair is missed, not left out of the count
        ({"a1": "1", "a2": "1", "b1": "2", "c1": "3"}, 1.0, 0.5, 0, 0),
    ],
)
def test_pairwise(predicted, precision, recall, over_merged, split):
    result = pairwise(predicted, TRUTH)
    assert (result["precision"], result["recall"]) == (precision, recall)
    assert (result["over_merged_entities"], result["split_entities"]) == (over_merged, split)
    assert (result["records"], result["truth_records"]) == (len(predicted), len(TRUTH))


def test_twins_are_children_of_one_parent_born_the_same_day(tmp_path):
    (tmp_path / "relations.csv").write_text(
        "relation_type,from_id,to_id,valid_from,valid_to\n"
        "parent,M1,T1,2020-05-01,\n"
        "parent,M1,T2,2020-05-01,\n"
        "parent,F1,T1,2020-05-01,\n"
        "parent,F1,T2,2020-05-01,\n"
        "parent,M1,S1,2022-01-09,\n"  # a sibling born another day
        "spouse,F1,M1,2015-01-01,\n",
        encoding="utf-8",
    )
    assert read_twin_pairs(tmp_path) == {("T1", "T2")}


def test_a_twin_pair_counts_as_merged_when_a_record_of_each_is_in_one_person():
    truth = {"r1": "T1", "r2": "T1", "r3": "T2"}
    twins = {("T1", "T2")}
    assert twins_merged({"r1": "P1", "r2": "P1", "r3": "P2"}, truth, twins) == 0
    assert twins_merged({"r1": "P1", "r2": "P2", "r3": "P2"}, truth, twins) == 1
    assert twins_merged({"r1": "P1", "r2": "P1"}, truth, twins) == 0  # a twin not resolved


def test_link_accuracy_per_group():
    from mdm_tools.evaluate import link_accuracy

    truth = {
        ("gjj_dwjc", "A1"): ("O1", "uscc"),
        ("xyb_xzcf", "C1"): ("P1", "id_number"),
        ("gjj_dwjc", "A2"): ("O2", "name_address:abbreviation"),
        ("sdq_jfxx", "H1_202610"): ("O2", "name_address:exact"),
        ("sdq_jfxx", "H2_202610"): ("O3", "name_address:former_name"),
        ("xyd_sq", "S1"): ("O1", "uscc"),
    }
    # published ids -> true entities (majority of their records)
    true_person, true_org = {"P0000000001": "P1"}, {"L1": "O1", "L2": "O2", "L3": "O3"}
    links = {
        ("gjj_dwjc", "A1"): "L1",
        ("xyb_xzcf", "C1"): "P0000000001",
        ("gjj_dwjc", "A2"): "L2",
        ("sdq_jfxx", "H1_202610"): "L3",  # the wrong legal person
        ("xyd_sq", "S1"): "L1",
    }  # H2 not linked
    result = link_accuracy(links, truth, true_person, true_org)
    coded = result["coded_accounts_and_penalties"]
    assert (coded["records"], coded["precision"], coded["recall"]) == (2, 1.0, 1.0)
    named = result["name_address_accounts"]
    assert (named["records"], named["linked"], named["right"]) == (3, 2, 1)
    assert (named["precision"], named["recall"]) == (0.5, round(1 / 3, 6))
    assert result["coded_authorisations"]["recall"] == 1.0
    # a record whose code the delivery spoiled is left out of the coded group, reported apart
    spoiled = link_accuracy(links, truth, true_person, true_org, {("xyb_xzcf", "C1")})
    assert spoiled["coded_accounts_and_penalties"]["records"] == 1
    assert spoiled["coded_unusable"] == {
        "records": 1, "linked": 1, "right": 1, "precision": 1.0, "recall": 1.0
    }  # fmt: skip


def test_justice_persons_count_merges_and_splits_around_justice_records():
    from mdm_tools.evaluate import justice_persons

    truth = {
        ("gat_czrk", "R1"): "P1",
        ("sft_zyry", "RY1"): "P1",
        ("gat_czrk", "R2"): "P2",
        ("gat_czrk", "R3"): "P3",  # no justice record: outside unless merged with one
    }
    right = {("gat_czrk", "R1"): "A", ("sft_zyry", "RY1"): "A", ("gat_czrk", "R2"): "B",
             ("gat_czrk", "R3"): "C"}  # fmt: skip
    assert justice_persons(right, truth)["f1"] == 1.0
    merged = {**right, ("gat_czrk", "R3"): "A"}  # a practitioner merged with another person
    assert justice_persons(merged, truth)["precision"] < 1.0
    split = {**right, ("sft_zyry", "RY1"): "D"}  # a practitioner kept apart from its person
    assert justice_persons(split, truth)["recall"] == 0.0
