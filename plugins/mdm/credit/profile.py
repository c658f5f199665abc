"""Build the credit profile and evaluation (dbt, schema ``credit``) and the banks' views."""

from __future__ import annotations

import datetime as dt
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


def as_of_moment(day: dt.date) -> str:
    """The end of a business day in Beijing, as ``MDM_CREDIT_AS_OF`` takes it."""
    return f"{day.isoformat()}T23:59:59+08:00"


def build_credit(
    settings: Settings, warehouse: ConnParams, run_id: str, as_of: dt.date | None = None
) -> dict[str, Any]:
    """The profile, its freshness and evaluation from what is published now, then every
    registered bank's filtered view (dbt recreates the tables they read). ``as_of``: the
    business day to compute for (a replay of that day); default the clock."""
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
        moment = {"MDM_CREDIT_AS_OF": as_of_moment(as_of)} if as_of else {}
        nodes = run_dbt(settings, warehouse, ["build", *CREDIT], environment=moment)
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
            "as_of": as_of.isoformat() if as_of else "now",
            "stale_sources": stale or [],
            "bank_views": banks,
        }
        if stale:
            logger.warning("credit profile: sources past their promised cycle: %s", stale)
    return outcome.detail
