"""Splink links organisation records the codes leave apart, and never merges two credit codes.

A generated world with many credit codes delivered with a wrong check character (a
registration that then has no usable code, while its tax record has the right one) plus
the organisations the world always has without a shared code (old registrations known by
their registration number only, individual businesses taxed under the operator's ID
number). Deterministic keys alone split those organisations; Splink joins them.
"""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from ingest_support import ingest_all_files, reset_world

from mdm import build, db
from mdm.connections import params_from_url
from mdm.ingest.frontend import pull_frontend
from mdm.registry import dataset
from mdm.resolve.deterministic import resolve_deterministic
from mdm.resolve.entities import ORGANISATION
from mdm.resolve.probabilistic import link_singletons
from mdm_tools.evaluate import only_resolved, pairwise, predicted, split_truth
from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend
from mdm_tools.generate.noise import NoiseRates

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_splink_joins_organisations_the_codes_leave_apart(settings, warehouse_url, tmp_path):
    reset_world(settings, warehouse_url)
    rates = dataclasses.replace(NoiseRates(), uscc_wrong_check=0.25)
    summary = generate(GenerateConfig(persons=1200, orgs=500, days=1, seed=83, rates=rates))
    write_all(summary, tmp_path / "landing", tmp_path / "truth")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)  # tax: the front-end
    warehouse = params_from_url(warehouse_url)
    ingest_all_files(warehouse_url, tmp_path / "landing", "orgs")
    frontend = params_from_url(db.frontend_url(settings))
    pull_frontend(warehouse, frontend, dataset("swj_dwnsr"), "orgs")
    build.build_observations(settings, warehouse, "orgs")
    resolve_deterministic(warehouse, "orgs")
    with psycopg.connect(warehouse_url) as conn:
        truth = only_resolved(conn, split_truth(summary.truth.records))[0]["organisation"]
        by_codes = pairwise(predicted(conn)["organisation"], truth)
    counts = link_singletons(warehouse, "orgs", settings, kind=ORGANISATION)
    with psycopg.connect(warehouse_url) as conn:
        after = pairwise(predicted(conn)["organisation"], truth)
        codes_per_entity = conn.execute(
            """select max(n) from (
                   select r.legal_person_id, count(distinct o.uscc) as n
                   from resolve.legal_person_record r
                   join intermediate.int_organisation_observations o using (dataset, record_key)
                   where o.uscc_valid group by r.legal_person_id) as per_entity"""
        ).fetchone()[0]
        moved = conn.execute(
            "select count(*) from resolve.legal_person_record where match_method = 'splink'"
        ).fetchone()[0]
        events = dict(
            conn.execute(
                "select event, count(*) from resolve.entity_event "
                "where entity_kind = 'legal_person' and run_id = 'orgs' "
                "and evidence ? 'model' group by event"
            ).fetchall()
        )

    assert counts["linked"] > 0 and moved == counts["linked"] == events["linked"]
    assert events["retired"] > 0  # every entity that moved is retired, with the evidence
    assert by_codes["recall"] < 0.99 < after["recall"], (by_codes, after)
    assert after["precision"] >= 0.999, after
    assert codes_per_entity == 1  # two different valid credit codes never in one organisation

    # A rerun with nothing new links nothing and changes no id.
    with psycopg.connect(warehouse_url) as conn:
        before_rerun = predicted(conn)["organisation"]
    assert link_singletons(warehouse, "orgs", settings, kind=ORGANISATION)["linked"] == 0
    with psycopg.connect(warehouse_url) as conn:
        assert predicted(conn)["organisation"] == before_rerun
