"""The dbt project's fingerprint: a changed rule, model or seed makes the next build a full one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdm.settings import DBT_PROJECT_DIR
from mdm.transform import project_fingerprint

pytestmark = pytest.mark.unit


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_the_checkout_and_its_copy_have_one_fingerprint(project: Path):
    assert project_fingerprint(project) == project_fingerprint(DBT_PROJECT_DIR)


@pytest.mark.parametrize(
    "changed",
    [
        "functions/mobile.sql",  # a rule
        "seeds/survivorship_rules.csv",  # which source wins
        "models/marts/repositories/natural_person.sql",  # a model
        "macros/survivorship.sql",
    ],
)
def test_a_changed_rule_model_or_seed_changes_it(project: Path, changed: str):
    before = project_fingerprint(project)
    path = project / changed
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert project_fingerprint(project) != before


def test_build_output_does_not_change_it(project: Path):
    before = project_fingerprint(project)
    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "manifest.json").write_text("{}", encoding="utf-8")
    assert project_fingerprint(project) == before
