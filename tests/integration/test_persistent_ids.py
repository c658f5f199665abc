"""Entity ids persist: a second day of deltas changes no id of an entity whose records did not
change, and every change that does happen is an entity event."""

from __future__ import annotations

import psycopg
import pytest
from ingest_support import reset_world, resolve_day

pytestmark = pytest.mark.integration


def _mapping(warehouse_url: str) -> dict[tuple[str, str], str]:
    with psycopg.connect(warehouse_url) as conn:
        return {
            (d, k): e
            for d, k, e in conn.execute(
                "select dataset, record_key, person_id from resolve.person_record "
                "union all select dataset, record_key, legal_person_id "
                "from resolve.legal_person_record"
            )
        }


def test_a_day_of_deltas_keeps_the_ids_of_unchanged_entities(settings, warehouse_url, tmp_path):
    reset_world(settings, warehouse_url)
    resolve_day(settings, warehouse_url, tmp_path, persons=800, seed=57, days=1)
    before = _mapping(warehouse_url)
    resolve_day(settings, warehouse_url, tmp_path, persons=800, seed=57, days=2)
    after = _mapping(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        events = conn.execute(
            "select event, entity_id, into_id, dataset, record_key from resolve.entity_event "
            "where run_id = 'day-2'"
        ).fetchall()
    retired = {e[1] for e in events if e[0] == "retired"}
    moved = {(e[3], e[4]) for e in events if e[0] == "linked"}
    changed = {key for key in before if after.get(key) != before[key]}
    # Only records Splink (or the organisation merge) linked on day 2 changed entity, and
    # each such change retired the id it left.
    assert changed <= moved, sorted(changed - moved)[:5]
    assert {before[key] for key in changed} <= retired
    assert len(after) > len(before)  # day 2 brought new records
    # No record vanished from the resolution output: every record ever seen stays mapped.
    assert before.keys() <= after.keys()
