"""The graded resource catalogue (standard 6.3, docs/adr/0023): complete, graded by the
rules of 6.3, and the grades hold where access is decided (analyst views, open resources)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from mdm import catalogue
from mdm.catalogue import NOT_OPEN, OPEN_TYPES, SHARE_TYPES, openable, static_resources
from mdm.catalogue.store import CSV_COLUMNS, as_csv, as_json
from mdm.registry import datasets

pytestmark = pytest.mark.unit

# What 6.3 calls personal sensitive, by meaning (sources) or name (repositories).
PERSONAL_MEANING = re.compile(
    r"身份号码|身份证件号|证件号码|身份证号|手机|联系电话|出生日期|居住地址|详细地址"
)
PERSONAL_NAME = re.compile(r"^(id_number|mobile|birth_date|hukou_address|residential_address)$")


def test_every_resource_and_field_is_described():
    resources = static_resources()
    codes = [r.code for r in resources]
    assert len(codes) == len(set(codes)), "resource codes are unique"
    kinds = {r.kind for r in resources}
    assert kinds == {"source", "repository", "analyst", "open"}
    assert {r.key for r in resources if r.kind == "source"} == set(datasets())
    for r in resources:
        for attribute in ("code", "name", "provider", "maintainer", "summary", "update_cycle"):
            assert str(getattr(r, attribute)).strip(), (r.key, attribute)
        assert r.share_type in SHARE_TYPES and r.open_type in OPEN_TYPES, r.key
        assert r.fields, r.key
        for f in r.fields:
            assert f.meaning.strip() and f.type.strip() and f.grade in (1, 2, 3, 4), (r.key, f)
    # every delivered column of every dataset has a grade (the builder raises otherwise)
    sources = {r.key: r for r in resources if r.kind == "source"}
    for code, spec in datasets().items():
        assert [f.name for f in sources[code].fields] == spec.column_names


def test_a_field_left_ungraded_or_graded_twice_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        catalogue.graded({4: ["GMSFHM"], 2: ["GMSFHM"]})
    with pytest.raises(ValueError, match="without a grade"):
        catalogue._grade_all("gat_czrk", ["RYBH", "XM"], {"RYBH": 2})


def test_personal_identifiers_are_grade_4():
    for r in static_resources():
        for f in r.fields:
            personal = (r.kind == "source" and PERSONAL_MEANING.search(f.meaning)) or (
                r.key == "natural_person" and r.kind == "repository" and PERSONAL_NAME.match(f.name)
            )
            if personal:
                assert f.grade == 4, (r.key, f.name, f.meaning)


def test_analyst_views_show_nothing_of_grade_4():
    analyst = [r for r in static_resources() if r.kind == "analyst"]
    assert {r.key for r in analyst} == {"natural_person", "legal_person", "relation", "certificate"}
    assert all(f.grade < 4 for r in analyst for f in r.fields)


def test_open_resources_open_nothing_above_grade_2_and_keep_the_naming_rule():
    resources = static_resources()
    opened = [r for r in resources if r.kind == "open"]
    assert len(opened) == 5
    for r in opened:
        assert openable(r, resources) == []
        for f in r.fields:
            assert re.fullmatch(r"[a-z0-9_]{1,30}", f.name), f.name


def test_a_resource_made_from_a_dataset_marked_not_open_is_withheld():
    resources = static_resources()
    closed = [
        dataclasses.replace(r, open_type=NOT_OPEN)
        if (r.kind, r.key) == ("source", "xyb_xzcf")
        else r
        for r in resources
    ]
    penalty = next(r for r in closed if r.key == "administrative_penalty")
    assert openable(penalty, closed) == ["xyb_xzcf is 不予开放"]
    graded_up = dataclasses.replace(
        penalty, fields=(dataclasses.replace(penalty.fields[0], grade=3), *penalty.fields[1:])
    )
    assert openable(graded_up, resources) == ["administrative_penalty.decision_number is grade 3"]


def test_the_export_formats_carry_every_field():
    resources = static_resources()
    exported = as_json(resources)
    assert json.loads(json.dumps(exported, ensure_ascii=False)) == exported
    assert sum(len(r["fields"]) for r in exported) == sum(len(r.fields) for r in resources)
    lines = as_csv(resources).splitlines()
    assert lines[0].split(",") == CSV_COLUMNS
    assert len(lines) - 1 == sum(len(r.fields) for r in resources)
