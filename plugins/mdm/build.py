"""Building the repositories: dbt up to the observations, resolution, dbt from there on.

Called by the ``mdm_build`` DAG (and so by ``mdm run``). The split follows the
data: every model that reads the resolution output (``source:resolve``) is
built after resolution has run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mdm.connections import ConnParams, conninfo
from mdm.runlog import logged_step
from mdm.settings import Settings
from mdm.transform import node_summary, run_dbt

logger = logging.getLogger(__name__)

BEFORE_RESOLUTION = [
    "--exclude", "source:resolve+", "source:published+", "path:models/quality",
]  # fmt: skip
QUALITY = ["--select", "path:models/quality", "dataset_catalogue"]
AFTER_RESOLUTION = ["--select", "source:resolve+", "survivorship_rules"]
# What reads the published repositories: history snapshots and the analysts' views.
AFTER_PUBLISH = ["--select", "source:published+"]


def build_observations(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Staging, the standardised observations, and their tests.

    Returns what ``ops.run_log.detail`` holds: every dbt node with its status and seconds
    (the Airflow task returns it, so the UI shows it per run as the task's XCom).
    """
    import psycopg

    from mdm.ingest.raw_tables import ensure_all_raw_tables

    with psycopg.connect(conninfo(warehouse)) as conn:
        ensure_all_raw_tables(conn)
    with logged_step(conninfo(warehouse), run_id, "build_observations") as outcome:
        nodes = run_dbt(settings, warehouse, ["build", *BEFORE_RESOLUTION])
        outcome.rows_affected = len(nodes)
        outcome.detail = {"nodes": node_summary(nodes)}
    return outcome.detail


def resolve_entities(warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Source records -> persistent entity ids: deterministic keys, then Splink for the rest.

    Returns the counts of each step and, under ``seconds``, how long each step took."""
    import time

    from mdm.resolve.context import link_by_context
    from mdm.resolve.deterministic import resolve_deterministic
    from mdm.resolve.entities import ORGANISATION, PERSON
    from mdm.resolve.probabilistic import link_singletons
    from mdm.resolve.steward import apply_steward_decisions

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("deterministic", lambda: resolve_deterministic(warehouse, run_id)),
        ("splink_person", lambda: link_singletons(warehouse, run_id, kind=PERSON)),
        (
            "splink_organisation",
            lambda: link_singletons(warehouse, run_id, kind=ORGANISATION),
        ),
        ("context", lambda: link_by_context(warehouse, run_id)),
        ("steward", lambda: apply_steward_decisions(warehouse, run_id)),
    ]
    with logged_step(conninfo(warehouse), run_id, "resolve_entities") as outcome:
        counts: dict[str, Any] = {}
        seconds: dict[str, float] = {}
        for name, step in steps:
            started = time.perf_counter()
            result = step()
            seconds[name] = round(time.perf_counter() - started, 3)
            if name == "deterministic":
                counts.update(result)  # per kind: person_record, legal_person_record
            else:
                counts[name] = result
        outcome.rows_affected = sum(sum(kind.values()) for kind in counts.values())
        counts["seconds"] = seconds
        outcome.detail = counts
    return counts


def build_repositories(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Survivorship and the repositories into mdm_build, the publish gate, publication into
    mdm, then the history snapshots and the analyst views over what was published.

    Returns the dbt nodes (status, seconds) and the rows published per table."""
    import psycopg

    from mdm.access.roles import ensure_roles

    with psycopg.connect(conninfo(warehouse)) as conn:
        ensure_roles(conn)  # the analyst views' grants name them
    from mdm.publish import audit_and_publish, build_lock

    with (
        logged_step(conninfo(warehouse), run_id, "build_repositories") as outcome,
        build_lock(warehouse, run_id) as lock,
    ):
        # Under one lock: no other build rewrites mdm_build between our audit and publish.
        nodes = run_dbt(settings, warehouse, ["build", *AFTER_RESOLUTION])
        outcome.detail = {"nodes": node_summary(nodes)}
        lock.execute("select 1")  # still held (its session is alive) before we publish
        outcome.detail |= audit_and_publish(warehouse, run_id)
        after = run_dbt(settings, warehouse, ["build", *AFTER_PUBLISH])
        outcome.detail["nodes"] += node_summary(after)
        outcome.rows_affected = len(nodes) + len(after)
    return outcome.detail


def refresh_access(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Pseudonyms for new persons; expired share grants dropped."""
    import psycopg

    from mdm.access import sharing
    from mdm.access.pseudonyms import pseudonym_key, refresh_pseudonyms

    with logged_step(conninfo(warehouse), run_id, "refresh_access") as outcome:
        added = refresh_pseudonyms(warehouse, pseudonym_key(settings.home))
        with psycopg.connect(conninfo(warehouse)) as conn:
            expired = sharing.expire(conn)
        outcome.detail = {"pseudonyms_added": added, "grants_expired": expired}
    return outcome.detail


def build_scorecard(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """The quality scorecard (schema quality) from the ledger and the stored GX results."""
    with logged_step(conninfo(warehouse), run_id, "build_scorecard") as outcome:
        nodes = run_dbt(settings, warehouse, ["build", *QUALITY])
        outcome.rows_affected = len(nodes)
        outcome.detail = {"nodes": node_summary(nodes)}
    return outcome.detail
