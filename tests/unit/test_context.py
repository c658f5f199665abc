"""A person named by name only: the context decides, or nothing links."""

from __future__ import annotations

import pytest

from mdm.resolve.context import Candidate, decide

pytestmark = pytest.mark.unit


def test_the_one_trusted_person_of_the_context_with_the_name():
    candidates = [
        Candidate("P1", "黄建国", None, "same_organisation"),
        Candidate("P2", "李秀英", None, "same_organisation"),
    ]
    decision = decide("黄建国", candidates, {"P1", "P2"})
    assert (decision.person_id, decision.paths) == ("P1", ("same_organisation",))


def test_a_name_by_sound_or_a_former_name_counts():
    assert (
        decide("黄健国", [Candidate("P1", "黄建国", None, "household")], {"P1"}).person_id == "P1"
    )
    renamed = [Candidate("P1", "黄建国", "黄二狗", "household")]
    assert decide("黄二狗", renamed, {"P1"}).person_id == "P1"


def test_two_people_of_that_name_decide_nothing():
    candidates = [
        Candidate("P1", "王伟", None, "household"),
        Candidate("P2", "王伟", None, "spouse"),
    ]
    decision = decide("王伟", candidates, {"P1", "P2"})
    assert (decision.person_id, decision.reason) == (None, "ambiguous")


def test_nobody_of_that_name_or_only_untrusted_people_decide_nothing():
    assert decide("王伟", [Candidate("P1", "李娜", None, "household")], {"P1"}).reason == (
        "no_candidate"
    )
    assert decide("王伟", [Candidate("P9", "王伟", None, "household")], set()).person_id is None


def test_one_person_found_by_two_paths_is_one_person():
    candidates = [
        Candidate("P1", "李娜", None, "household"),
        Candidate("P1", "李娜", None, "spouse"),
    ]
    decision = decide("李娜", candidates, {"P1"})
    assert decision.person_id == "P1" and decision.reason == "household+spouse"
