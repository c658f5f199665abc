"""Splink on Spark (local mode) takes the same decisions as Splink on DuckDB.

The scale-out path is configuration only (``MDM_SPLINK_BACKEND=spark``): same
settings, same model file, same code. On a small generated world both backends
link the same singleton records into the same entities with the same scores.
"""

from __future__ import annotations

import dataclasses
import shutil

import psycopg
import pytest
from ingest_support import ingest_all_files, reset_world

from mdm import build, db
from mdm.connections import params_from_url
from mdm.ingest.frontend import pull_frontend
from mdm.registry import dataset
from mdm.resolve import organisation_model
from mdm.resolve.candidates import load_candidates
from mdm.resolve.deterministic import resolve_deterministic
from mdm.resolve.entities import ORGANISATION
from mdm.resolve.probabilistic import link_singletons
from mdm.resolve.scoring import score_pairs
from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend
from mdm_tools.generate.noise import NoiseRates

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_RECORD_STATE = (
    "select dataset, record_key, person_id, match_method, round(match_probability::numeric, 9) "
    "from resolve.person_record order by 1, 2"
)


def _snapshot(warehouse_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(_RECORD_STATE).fetchall()


def _restore_deterministic_state(warehouse_url: str) -> None:
    """Undo the Splink links: back to the state right after the deterministic step."""
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("delete from resolve.person_record")
        conn.execute("insert into resolve.person_record select * from deterministic_state")
        conn.execute(
            "delete from resolve.entity_event where entity_kind = 'person' and run_id = 'spark'"
        )


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime")
def test_spark_backend_links_exactly_what_duckdb_links(settings, warehouse_url, tmp_path):
    reset_world(settings, warehouse_url)
    # Many credit codes with a wrong check character: organisation records for Splink too.
    rates = dataclasses.replace(NoiseRates(), uscc_wrong_check=0.25)
    summary = generate(GenerateConfig(persons=700, orgs=140, days=1, seed=23, rates=rates))
    write_all(summary, tmp_path / "landing", tmp_path / "truth")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    warehouse = params_from_url(warehouse_url)
    ingest_all_files(warehouse_url, tmp_path / "landing", "spark")
    pull_frontend(warehouse, params_from_url(db.frontend_url(settings)), dataset("swj_dwnsr"), "s")
    build.build_observations(settings, warehouse, "spark")
    resolve_deterministic(warehouse, "spark")
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("drop table if exists deterministic_state")
        conn.execute("create table deterministic_state as select * from resolve.person_record")
    try:
        on_duckdb = dataclasses.replace(settings, splink_backend="duckdb")
        # The same run as the deterministic step, as in resolve_entities.
        duckdb_counts = link_singletons(warehouse, "spark", on_duckdb)
        duckdb_state = _snapshot(warehouse_url)
        _restore_deterministic_state(warehouse_url)

        on_spark = dataclasses.replace(
            settings, splink_backend="spark", spark_master="local[2]", shared_dir=tmp_path
        )
        spark_counts = link_singletons(warehouse, "spark", on_spark)
        spark_state = _snapshot(warehouse_url)
        # The organisation model too: the same pairs and scores on both backends.
        left, candidates = load_candidates(warehouse, kind=ORGANISATION)
        organisation_pairs = {
            name: [
                (p["unique_id_l"], p["unique_id_r"], round(p["match_probability"], 9))
                for p in score_pairs(on, left, candidates, organisation_model)[0]
            ]
            for name, on in (("duckdb", on_duckdb), ("spark", on_spark))
        }
    finally:
        with psycopg.connect(warehouse_url) as conn:
            conn.execute("drop table if exists deterministic_state")

    # The world has records without a trusted key that Splink links (newborns, typo IDs).
    assert duckdb_counts["linked"] > 0
    assert spark_counts == duckdb_counts
    assert spark_state == duckdb_state
    assert organisation_pairs["duckdb"]
    assert organisation_pairs["spark"] == organisation_pairs["duckdb"]
    # Spark's intermediate tables went to the configured shared folder, not to local /tmp.
    assert any((tmp_path / "spark-checkpoints").iterdir())
