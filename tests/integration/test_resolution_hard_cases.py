"""Resolution beyond identifiers (issue #15), against the generator's truth.

A world of a seed never used while tuning the rules or training the model, with the hard
cases the generator plants at their default rates: persons named by name only (legal
representatives, guardians, birth parents), ID numbers typed one character wrong or with two
digits swapped, a relative's number typed into a record, names written by sound (同音字),
employers named without a valid credit code, owners of two businesses, twins.
"""

from __future__ import annotations

import logging

import pytest
from ingest_support import build_world

from mdm.connections import params_from_url
from mdm_tools.evaluate import evaluate

pytestmark = pytest.mark.integration

SEED = 29  # never tuned on (the rules were tuned on seed 3; person-v2 trained on seed 11)

# The issue's targets at the default noise rates; with every rate doubled (a harder world than
# any the rules saw), lower bars, written down here: measured at 10k persons, seed 41, the
# doubled world gave precision 1.0, F1 0.9969, name-only recall 0.97, golden identity 99.7%.
BARS = {
    "default": {"f1": 0.995, "excess": 0.003, "identity": 0.995, "case": 0.95, "employees": 0.98},
    "doubled": {"f1": 0.99, "excess": 0.005, "identity": 0.99, "case": 0.93, "employees": 0.97},
}


@pytest.fixture(scope="module", params=["default", "doubled"])
def evaluated(request, settings, warehouse_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    from mdm_tools.generate.noise import NoiseRates

    folder = tmp_path_factory.mktemp(f"hard-cases-{request.param}")
    rates = NoiseRates() if request.param == "default" else NoiseRates().scaled(2.0)
    build_world(settings, warehouse_url, folder, 3000, SEED, rates=rates)
    return request.param, evaluate(params_from_url(warehouse_url), folder / "truth")


def test_persons_resolve_with_the_precision_and_f1_of_the_issue(evaluated):
    world, evaluated = evaluated
    person = evaluated["person"]
    logging.getLogger(__name__).info("evaluation (%s noise): %s", world, evaluated)
    assert person["precision"] >= 0.999
    assert person["f1"] >= BARS[world]["f1"]
    assert person["twin_pairs"] > 10 and person["twin_pairs_merged"] == 0


def test_the_repository_holds_the_true_number_of_persons_with_their_identity(evaluated):
    world, evaluated = evaluated
    repository = evaluated["repository"]
    assert abs(repository["published_persons_excess"]) <= BARS[world]["excess"]
    assert repository["golden_identity_right"] >= BARS[world]["identity"]


def test_each_hard_case_is_present_and_linked(evaluated):
    world, evaluated = evaluated
    cases = evaluated["hard_cases"]
    # enough of each case for the rates below to mean something (a relative's number is rare)
    least = {case: 10 if case == "relative_id" else 20 for case in cases}
    assert {c: cases[c]["records"] >= least[c] for c in cases} == dict.fromkeys(cases, True)
    decided = cases["name_only_context"]
    assert decided["recall"] >= 0.9 and decided["wrongly_linked"] == 0
    for case in ("typed_wrong_id", "same_sound_name", "relative_id"):
        assert cases[case]["recall"] >= BARS[world]["case"], case
        assert cases[case]["wrongly_linked"] == 0, case


def test_employers_named_by_name_or_a_wrong_code_are_found(evaluated):
    world, evaluated = evaluated
    repository = evaluated["repository"]
    assert repository["employee_recall"] >= BARS[world]["employees"]
    assert repository["employee_precision"] >= 0.999
    assert repository["employer_by_name_records"] >= 20
    assert repository["employer_by_name_recall"] >= 0.95


def test_two_businesses_of_one_owner_stay_two(evaluated):
    _, evaluated = evaluated
    organisation = evaluated["organisation"]
    assert organisation["same_owner_pairs"] > 5
    assert organisation["same_owner_pairs_merged"] == 0
    assert organisation["precision"] >= 0.999
