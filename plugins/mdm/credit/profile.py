"""Build the credit profile and evaluation (dbt, schema ``credit``) and the banks' views."""

from __future__ import annotations

import logging
from typing import Any

from mdm.connections import ConnParams, conninfo
from mdm.runlog import logged_step
from mdm.settings import Settings
from mdm.transform import node_summary, run_dbt

logger = logging.getLogger(__name__)

# The credit models and their rules; they read the published repositories, so they build
# after a publish (the daily build's AFTER_PUBLISH leaves them to this step).
CREDIT = ["--select", "path:models/credit", "path:seeds/credit"]


def build_credit(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """The profile, its freshness and evaluation from what is published now, then every
    registered bank's filtered view (dbt recreates the tables they read)."""
    import psycopg

    from mdm.credit.banks import ensure_bank_views

    with psycopg.connect(conninfo(warehouse)) as conn:
        published = conn.execute(
            "select to_regclass('mdm.legal_person') is not null "
            "and to_regclass('mdm.record_link') is not null"
        ).fetchone()
    if not (published and published[0]):
        logger.info("credit profile: nothing published yet, nothing to build")
        return {"skipped": "no published repositories yet"}
    with logged_step(conninfo(warehouse), run_id, "build_credit") as outcome:
        nodes = run_dbt(settings, warehouse, ["build", *CREDIT])
        with psycopg.connect(conninfo(warehouse)) as conn:
            banks = ensure_bank_views(conn)
            profiles, stale = conn.execute(
                "select count(*), (select array_agg(dataset order by dataset) "
                "from credit.source_freshness where is_stale) from credit.enterprise_profile"
            ).fetchone() or (0, None)
        outcome.rows_affected = int(profiles)
        outcome.detail = {
            "nodes": node_summary(nodes),
            "profiles": int(profiles),
            "stale_sources": stale or [],
            "bank_views": banks,
        }
        if stale:
            logger.warning("credit profile: sources past their promised cycle: %s", stale)
    return outcome.detail
