"""One entry point per dataset, called by its ingestion DAG and by ``mdm ingest``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mdm.connections import ConnParams
from mdm.ingest import ledger
from mdm.ingest.files import IngestReport, ingest_file_drops
from mdm.ingest.frontend import pull_frontend
from mdm.registry import dataset

logger = logging.getLogger(__name__)


def ingest_dataset(
    code: str,
    warehouse: ConnParams,
    frontend: ConnParams | None,
    landing: Path,
    run_id: str,
    skip: Sequence[str] = (),
    until: str | None = None,
    reconcile: bool | None = None,
) -> IngestReport:
    """Ingest whatever is new for one dataset (file drops or a front-end pull).

    ``until`` (``YYYYMMDD``) holds back file deliveries extracted after that day.
    ``reconcile``: a front-end pull compares the whole source table with raw (None: when
    ``MDM_FRONTEND_RECONCILE_HOURS`` have passed since the last time).
    """
    spec = dataset(code)
    if spec.channel == "frontend_db":
        if frontend is None:
            raise ValueError(f"{code} is pulled from the front-end database: pass its connection")
        report = IngestReport(code)
        outcome = pull_frontend(warehouse, frontend, spec, run_id, reconcile=reconcile)
        if outcome:
            report.outcomes.append(outcome)
        return report
    return ingest_file_drops(warehouse, landing, spec, run_id, skip, until)


def profile_deliveries(
    code: str, warehouse: ConnParams, delivery_ids: Sequence[str]
) -> dict[str, list[str]]:
    """Run the warning suite on deliveries just attached to ``raw``; store the results.

    Returns delivery id -> failed warning expectations, for the log.
    """
    import psycopg

    from mdm.connections import conninfo
    from mdm.ingest import gate, raw_tables

    spec = dataset(code)
    warnings: dict[str, list[str]] = {}
    with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
        for delivery_id in delivery_ids:
            row = conn.execute(
                "select mode from ops.delivery where dataset = %s and delivery_id = %s "
                "and status in ('loaded', 'partially_quarantined')",
                (code, delivery_id),
            ).fetchone()
            if row is None or not raw_tables.is_attached(conn, spec, delivery_id):
                continue
            result = gate.validate(
                warehouse,
                spec,
                row[0],
                "raw",
                raw_tables.partition_name(spec, delivery_id),
                None,
                kind="profile",
            )
            gate.store(conn, code, delivery_id, result)
            warnings[delivery_id] = [
                f"{f['expectation']}({f.get('column') or ''}) observed {f['observed']}"
                for f in result.failures
            ]
            if warnings[delivery_id]:
                logger.warning(
                    "%s/%s quality warnings: %s", code, delivery_id, warnings[delivery_id]
                )
    return warnings


def raw_event_extra(report: dict[str, Any]) -> dict[str, Any] | None:
    """The extra of the ``raw.<dataset>`` Asset event of an ingestion run (``report``: what
    :meth:`IngestReport.as_dict` gives): the deliveries that put rows into raw and how many.

    None when none did (nothing new, a rerun, a duplicate re-send, only rejected deliveries,
    or a delivery whose every row was quarantined): then no event, and ``mdm_build`` is not
    triggered for nothing.
    """
    loaded = [
        {"delivery_id": d["delivery_id"], "rows_loaded": d["rows_loaded"]}
        for d in report["deliveries"]
        if d["status"] in ledger.LOADED and (d["rows_loaded"] or 0) > 0
    ]
    if not loaded:
        return None
    return {
        "dataset": report["dataset"],
        "deliveries": loaded,
        "rows_loaded": sum(d["rows_loaded"] for d in loaded),
    }


def loaded_ids(report: IngestReport) -> list[str]:
    return [
        o.delivery_id for o in report.outcomes if o.status in ("loaded", "partially_quarantined")
    ]


def problems_message(report: IngestReport) -> str:
    """What an engineer must act on, one delivery per line."""
    return "\n".join(o.error or f"{o.dataset}/{o.delivery_id}: {o.status}" for o in report.problems)
