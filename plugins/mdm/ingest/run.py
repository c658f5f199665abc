"""One entry point per dataset, called by its ingestion DAG and by ``mdm ingest``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mdm.connections import ConnParams
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
) -> IngestReport:
    """Ingest whatever is new for one dataset (file drops or a front-end pull)."""
    spec = dataset(code)
    if spec.channel == "frontend_db":
        if frontend is None:
            raise ValueError(f"{code} is pulled from the front-end database: pass its connection")
        report = IngestReport(code)
        outcome = pull_frontend(warehouse, frontend, spec, run_id)
        if outcome:
            report.outcomes.append(outcome)
        return report
    return ingest_file_drops(warehouse, landing, spec, run_id, skip)


def problems_message(report: IngestReport) -> str:
    """What an engineer must act on, one delivery per line."""
    return "\n".join(o.error or f"{o.dataset}/{o.delivery_id}: {o.status}" for o in report.problems)
