"""Entity ids persist: a second day of deltas changes no id of an entity whose records did not
change, and every change that does happen is an entity event."""

from __future__ import annotations

import psycopg
import pytest
from ingest_support import ingest_all_files, reset_ingestion

from mdm import build, db
from mdm.connections import params_from_url
from mdm.generate import GenerateConfig, generate, write_all, write_frontend
from mdm.ingest.frontend import pull_frontend
from mdm.registry import dataset

pytestmark = pytest.mark.integration


def _day(settings, warehouse_url, folder, days: int) -> None:  # type: ignore[no-untyped-def]
    summary = generate(GenerateConfig(persons=800, orgs=80, days=days, seed=57))
    write_all(summary, folder / "landing", folder / f"truth-{days}")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    warehouse = params_from_url(warehouse_url)
    ingest_all_files(warehouse_url, folder / "landing", f"day-{days}")
    frontend = params_from_url(db.frontend_url(settings))
    for code in ("swj_grnsr", "swj_dwnsr"):
        pull_frontend(warehouse, frontend, dataset(code), f"day-{days}")
    build.build_observations(settings, warehouse, f"day-{days}")
    build.resolve_entities(warehouse, f"day-{days}")


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
    reset_ingestion(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate resolve.person_record, resolve.legal_person_record, resolve.entity_event, "
            "resolve.steward_decision"
        )
    with psycopg.connect(db.frontend_url(settings), autocommit=True) as conn:
        conn.execute("drop table if exists public.swj_grnsr, public.swj_dwnsr")
    _day(settings, warehouse_url, tmp_path, days=1)
    before = _mapping(warehouse_url)
    _day(settings, warehouse_url, tmp_path, days=2)
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
