"""The dbt unit tests, the key tests of the repositories and the std functions (the
standardisation rules) run in the first real build of a changed dbt project.

A unit test that is declared but never selected protects nothing: after a real build
(generate, ingest, resolve, build and publish), every ``unit_tests:`` entry of the project,
the uniqueness tests of the xref and relation keys and the masking test must be in
``ops.run_log.detail`` of the run, passed.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml
from ingest_support import build_world

from mdm.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.integration


def declared_unit_tests() -> set[str]:
    """``unit_test.mdm.<model>.<name>`` of every unit test in the project's yml files."""
    found = set()
    for path in Path(DBT_PROJECT_DIR, "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []):
            found.add(f"unit_test.mdm.{test['model']}.{test['name']}")
    return found


@pytest.fixture(scope="module")
def node_status(settings, warehouse_url, tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # The first build of a changed dbt project runs them (a daily build of an unchanged one
    # leaves them out): forget the builds of earlier modules, as a new project would.
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "delete from ops.run_log where step in ('build_observations', 'build_repositories')"
        )
    build_world(settings, warehouse_url, tmp_path_factory.mktemp("dbt"), 300, 59)
    statuses: dict[str, str] = {}
    with psycopg.connect(warehouse_url) as conn:
        for (detail,) in conn.execute(
            "select detail from ops.run_log where run_id = 'world' "
            "and step in ('build_observations', 'build_repositories')"
        ):
            statuses |= {node["node"]: node["status"] for node in detail["nodes"]}
    return statuses


def test_every_declared_unit_test_ran_and_passed(node_status):
    declared = declared_unit_tests()
    assert {
        "unit_test.mdm.int_organisation_golden_attributes."
        "org_survivorship_validity_priority_recency",
        "unit_test.mdm.int_relation_observations."
        "a_marriage_ends_at_the_first_divorce_of_the_couple_after_it",
        "unit_test.mdm.relation.relations_join_published_golden_records_and_employers",
        "unit_test.mdm.natural_person_xref.xref_is_active_while_the_source_record_is_live",
        "unit_test.mdm.int_person_observations."
        "a_record_of_several_people_is_one_observation_per_person",
        "unit_test.mdm.int_person_attribute_candidates.a_person_is_offered_only_its_own_id_number",
        "unit_test.mdm.int_organisation_observations."
        "org_observations_credit_code_and_legal_representative",
        "unit_test.mdm.legal_person_xref."
        "organisation_xref_is_active_while_the_source_record_is_live",
    } <= declared
    ran = {node: status for node, status in node_status.items() if node in declared}
    assert ran == dict.fromkeys(declared, "pass")


def test_key_uniqueness_and_masking_tests_ran_and_passed(node_status):
    def status_of(prefix: str) -> list[str]:
        return [s for node, s in node_status.items() if node.startswith(prefix)]

    for prefix in (
        "test.mdm.unique_natural_person_xref_dataset_record_key",
        "test.mdm.unique_legal_person_xref_dataset_record_key",
        "test.mdm.unique_relation_relation_type_dataset_record_key_from_id_to_id",
        "test.mdm.access_masking_functions",
    ):
        assert status_of(prefix) == ["pass"], prefix


def test_every_std_function_is_built_in_the_build_before_resolution(node_status):
    """Resolution calls std functions by name: the build before it builds them all (ADR 0013),
    with the seeds their bodies are written from, and the seeds' tests pass."""
    from mdm.transform import std_function_names

    built = {node: s for node, s in node_status.items() if node.startswith("function.mdm.")}
    assert built == {f"function.mdm.{name}": "success" for name in std_function_names()}
    assert node_status["seed.mdm.ethnicity_gb3304"] == "success"
    assert node_status["test.mdm.county_renames_do_not_chain"] == "pass"
