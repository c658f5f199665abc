"""Which entities Splink's scores move: the decision, without a database."""

from __future__ import annotations

import pytest

from mdm.resolve.decision import InPlay, best_matches, splink_moves

pytestmark = pytest.mark.unit

THRESHOLD = 0.995


def pair(left: str, right: str, p: float, **weights: float) -> dict:
    return {
        "unique_id_l": left,
        "unique_id_r": right,
        "match_probability": p,
        "match_weight": 10.0,
        **weights,
    }


# records a|1 (untrusted entity P9) and b|1, b|2, b|3 (trusted entities P1, P2, P3)
IN_PLAY = InPlay(
    entity={"a|1": "P9", "a|2": "P9", "b|1": "P1", "b|2": "P2", "b|3": "P3", "c|1": "P8"},
    trusted={"P1", "P2", "P3"},
    vetoed=set(),
)


def test_an_untrusted_entity_moves_into_its_best_trusted_match():
    pairs = [pair("a|1", "b|1", 0.996), pair("a|1", "b|2", 0.999)]
    best = best_matches(pairs, {"a|1"}, IN_PLAY, THRESHOLD)
    assert {source: d["target"] for source, d in best.items()} == {"P9": "P2"}
    assert (best["P9"]["record"], best["P9"]["other"]) == ("a|1", "b|2")


def test_the_best_over_all_records_of_the_entity_and_either_side_of_the_pair():
    pairs = [pair("a|1", "b|1", 0.996), pair("b|3", "a|2", 0.998)]
    best = best_matches(pairs, {"a|1", "a|2"}, IN_PLAY, THRESHOLD)
    assert best["P9"]["target"] == "P3" and best["P9"]["record"] == "a|2"


def test_below_the_threshold_nothing_moves():
    assert best_matches([pair("a|1", "b|1", 0.99)], {"a|1"}, IN_PLAY, THRESHOLD) == {}


def test_never_into_an_untrusted_entity_and_never_a_trusted_one():
    pairs = [pair("a|1", "c|1", 0.9999), pair("b|1", "b|2", 0.9999)]
    assert best_matches(pairs, {"a|1", "b|1"}, IN_PLAY, THRESHOLD) == {}


def test_only_scored_records_move_their_entity():
    assert best_matches([pair("a|1", "b|1", 0.999)], {"a|2"}, IN_PLAY, THRESHOLD) == {}


def test_a_stewards_cannot_link_vetoes_the_move():
    vetoed = InPlay(IN_PLAY.entity, IN_PLAY.trusted, {("P9", "P2"), ("P2", "P9")})
    pairs = [pair("a|1", "b|1", 0.996), pair("a|1", "b|2", 0.999)]
    best = best_matches(pairs, {"a|1"}, vetoed, THRESHOLD)
    assert best["P9"]["target"] == "P1"


def test_an_alias_row_stands_for_its_register_record():
    pairs = [pair("a|1", "b|1|former-name", 0.999)]
    best = best_matches(pairs, {"a|1"}, IN_PLAY, THRESHOLD, {"b|1|former-name": "b|1"})
    assert best["P9"]["target"] == "P1" and best["P9"]["other"] == "b|1|former-name"


def test_ties_are_broken_the_same_way_whatever_the_order_of_the_pairs():
    pairs = [pair("a|1", "b|1", 0.999), pair("a|1", "b|2", 0.999)]
    first = best_matches(pairs, {"a|1"}, IN_PLAY, THRESHOLD)
    second = best_matches(list(reversed(pairs)), {"a|1"}, IN_PLAY, THRESHOLD)
    assert first["P9"]["target"] == second["P9"]["target"] == "P2"


def test_the_move_carries_the_model_file_and_each_comparisons_weight():
    pairs = [pair("a|1", "b|1", 0.999, mw_name=3.5, mw_birth_date=7.0)]
    best = best_matches(pairs, {"a|1"}, IN_PLAY, THRESHOLD)
    model = {"model": "person-v2", "model_file": "person-v2-20261202T042432Z-51ee95612a38.json"}
    (move,) = splink_moves(best, ["mw_name", "mw_birth_date"], model)
    assert (move.source, move.target, move.record, move.probability) == ("P9", "P1", "a|1", 0.999)
    assert move.evidence == {
        **model,
        "record": "a|1",
        "matched_record": "b|1",
        "match_probability": 0.999,
        "match_weight": 10.0,
        "weights": {"mw_name": 3.5, "mw_birth_date": 7.0},
    }
