"""The dbt project's fingerprint: a changed rule, model or seed makes the next build a full one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdm.build import STEADY_EXCLUDES, steady
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


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (["--select", "a+"], ["--select", "a+", "--exclude", *STEADY_EXCLUDES]),
        (["--exclude", "a+", "b"], ["--exclude", "a+", "b", *STEADY_EXCLUDES]),
        (
            ["--exclude", "a+", "--select", "c"],
            ["--exclude", "a+", *STEADY_EXCLUDES, "--select", "c"],
        ),
    ],
)
def test_an_unchanged_project_builds_without_unit_tests_seeds_and_functions(
    selection: list[str], expected: list[str]
):
    assert steady(selection) == expected
