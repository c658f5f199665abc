"""Keeping resolution right over time: full re-resolution agrees with the incremental
result, and steward merges and splits are applied once, logged, and keep ids stable."""

from __future__ import annotations

import psycopg
import pytest
from ingest_support import reset_world, resolve_day

from mdm import build
from mdm.cli import main as mdm_main
from mdm.connections import params_from_url
from mdm.resolve.full import SCRATCH_SCHEMA, compare_full_with_incremental
from mdm.resolve.steward import apply_steward_decisions

pytestmark = pytest.mark.integration

_STATE = (
    "select dataset, record_key, person_id from resolve.person_record "
    "union all select dataset, record_key, legal_person_id from resolve.legal_person_record "
    "order by 1, 2"
)


def _state(warehouse_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(_STATE).fetchall()


@pytest.fixture(scope="module")
def two_days(settings, warehouse_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Day 1 resolved from nothing, then day 2's deltas resolved incrementally."""
    folder = tmp_path_factory.mktemp("maintenance")
    reset_world(settings, warehouse_url)
    for days in (1, 2):
        resolve_day(settings, warehouse_url, folder, persons=900, seed=71, days=days)
    warehouse = params_from_url(warehouse_url)
    return warehouse


def test_full_re_resolution_agrees_with_the_incremental_result(two_days, warehouse_url):
    before = _state(warehouse_url)
    report = compare_full_with_incremental(two_days, "full-check")
    for kind in ("person", "organisation"):
        assert report[kind]["records"] > 0
        assert report[kind]["agree"], report[kind]["examples"]
        assert report[kind]["precision"] == report[kind]["recall"] == 1.0
    assert report["full_run"]["splink_person"]["linked"] > 0
    # A check, not a change: the published ids are untouched and the scratch schema is gone.
    assert _state(warehouse_url) == before
    with psycopg.connect(warehouse_url) as conn:
        assert not conn.execute(
            "select 1 from pg_namespace where nspname = %s", (SCRATCH_SCHEMA,)
        ).fetchone()


def test_scoring_only_the_candidates_gives_the_pairs_of_scoring_every_record(two_days, settings):
    from mdm.resolve.probabilistic import (
        load_candidates,
        load_observations,
        score_pairs,
        with_former_name_aliases,
    )

    left, candidates = load_candidates(two_days)
    everything = load_observations(two_days, with_aliases=True)
    assert 0 < left.num_rows <= candidates.num_rows < everything.num_rows
    from_candidates, _ = score_pairs(settings, left, with_former_name_aliases(candidates)[0])
    from_everything, _ = score_pairs(settings, left, with_former_name_aliases(everything)[0])

    def decisions(pairs):  # type: ignore[no-untyped-def]
        return [
            (p["unique_id_l"], p["unique_id_r"], round(p["match_probability"], 9)) for p in pairs
        ]

    assert from_everything
    assert decisions(from_candidates) == decisions(from_everything)


def test_the_full_run_reports_a_merge_the_incremental_result_does_not_have(two_days, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        a, b = conn.execute(
            "select dataset, record_key, person_id from resolve.person_record "
            "where match_method = 'id_number' and dataset = 'gat_czrk' order by person_id limit 2"
        ).fetchall()
        # Corrupt the incremental result: b's record moved into a's entity.
        conn.execute(
            "update resolve.person_record set person_id = %s where dataset = %s "
            "and record_key = %s",
            (a[2], b[0], b[1]),
        )
    try:
        report = compare_full_with_incremental(two_days, "full-check-2")
        assert not report["person"]["agree"]
        assert report["person"]["over_merged_entities"] == 1
        assert report["person"]["precision"] < 1.0
        example = report["person"]["examples"][0]
        assert example["entity_id"] == a[2]
        assert f"{b[0]}/{b[1]}" in example["records"]
        assert len(example["full_run_groups"]) == 2
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute(
                "update resolve.person_record set person_id = %s where dataset = %s "
                "and record_key = %s",
                (b[2], b[0], b[1]),
            )


def test_steward_merge_then_split_applied_once_logged_and_ids_kept(two_days, warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("truncate resolve.steward_decision")
        (a_key, a_id), (b_key, b_id) = conn.execute(
            "select record_key, person_id from resolve.person_record "
            "where dataset = 'gat_czrk' and match_method = 'id_number' "
            "order by person_id limit 2"
        ).fetchall()
        b_members = conn.execute(
            "select dataset, record_key from resolve.person_record where person_id = %s",
            (b_id,),
        ).fetchall()
    assert a_id < b_id

    assert (
        mdm_main(
            ["steward", "merge", f"gat_czrk/{a_key}", f"gat_czrk/{b_key}", "--reason", "same man"]
        )
        == 0
    )
    with psycopg.connect(warehouse_url) as conn:
        ids = dict(
            conn.execute(
                "select record_key, person_id from resolve.person_record "
                "where dataset = 'gat_czrk' and record_key in (%s, %s)",
                (a_key, b_key),
            ).fetchall()
        )
        events = conn.execute(
            "select event, entity_id, into_id, evidence->>'decision' from resolve.entity_event "
            "where run_id like 'steward__%%' order by event_id"
        ).fetchall()
    assert ids == {a_key: a_id, b_key: a_id}  # the smaller id survives
    assert events.count(("retired", b_id, a_id, "must_link")) == 1
    assert sum(1 for e in events if e[0] == "linked") == len(b_members)

    merged_state = _state(warehouse_url)
    apply_steward_decisions(two_days, "again")  # idempotent: nothing left to do
    assert _state(warehouse_url) == merged_state

    # A later cannot-link on the same pair supersedes the merge: b moves out to a new id.
    assert (
        mdm_main(
            ["steward", "split", f"gat_czrk/{a_key}", f"gat_czrk/{b_key}", "--reason", "twins"]
        )
        == 0
    )
    with psycopg.connect(warehouse_url) as conn:
        in_force = conn.execute(
            "select decision from resolve.steward_decision where withdrawn_at is null"
        ).fetchall()
        a_now, b_now = (
            conn.execute(
                "select person_id from resolve.person_record "
                "where dataset = 'gat_czrk' and record_key = %s",
                (key,),
            ).fetchone()[0]
            for key in (a_key, b_key)
        )
        split = conn.execute(
            "select entity_id, into_id from resolve.entity_event where event = 'split'"
        ).fetchall()
    assert in_force == [("cannot_link",)]
    assert a_now == a_id  # the larger part keeps the id
    assert b_now not in (a_id, b_id)  # a new entity, never a reused id
    assert split == [(a_id, b_now)]
    split_state = _state(warehouse_url)
    build.resolve_entities(two_days, "after-steward")  # every run honours the decisions
    assert _state(warehouse_url) == split_state
