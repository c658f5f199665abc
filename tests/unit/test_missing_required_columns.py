"""The required columns the correction loop checks (problems_missing_required.sql) are the
registry's: every required column but the record key, GXSJ and the delete flags."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mdm.registry import datasets

pytestmark = pytest.mark.unit

MODEL = Path(__file__).parents[2] / "dbt_project/models/corrections/problems_missing_required.sql"


def test_the_models_required_columns_are_the_registrys():
    text = MODEL.read_text("utf-8")
    listed = ast.literal_eval(re.search(r"set required = (\{.*?\n\}) %\}", text, re.S).group(1))
    expected = {}
    for code, spec in datasets().items():
        if code == "jcfk":  # the departments' answers: not a source of records
            continue
        always = {k.lower() for k in spec.record_key} | {"gxsj", "czbs", "scbz"}
        expected[code] = [
            c.name.lower() for c in spec.columns if c.required and c.name.lower() not in always
        ]
    assert {code: columns for code, (_, columns) in listed.items()} == expected
    staging = MODEL.parents[1] / "staging" / "raw"
    for code, (model, _) in listed.items():
        assert (staging / f"{model}.sql").exists() and model.startswith(f"stg_{code}__")
