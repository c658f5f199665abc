"""The run log (``ops.run_log``): one row per run and step, upserted, so reruns overwrite."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mdm.connections import redact_url

logger = logging.getLogger(__name__)


@dataclass
class StepOutcome:
    """What a step reports about itself; filled in by the step's body."""

    rows_affected: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


_UPSERT = """
insert into ops.run_log (run_id, step, status, started_at, finished_at, rows_affected, detail)
values (%(run_id)s, %(step)s, %(status)s, now(), %(finished)s, %(rows)s, %(detail)s)
on conflict (run_id, step) do update set
    status = excluded.status,
    started_at = case when excluded.status = 'running' then now() else ops.run_log.started_at end,
    finished_at = excluded.finished_at,
    rows_affected = excluded.rows_affected,
    detail = excluded.detail
"""


def _write(conninfo: str, run_id: str, step: str, status: str, outcome: StepOutcome) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            _UPSERT,
            {
                "run_id": run_id,
                "step": step,
                "status": status,
                "finished": None if status == "running" else _now(conn),
                "rows": outcome.rows_affected,
                "detail": Jsonb(outcome.detail),
            },
        )


def _now(conn: psycopg.Connection) -> Any:
    row = conn.execute("select clock_timestamp()").fetchone()
    return row[0] if row else None


@contextmanager
def logged_step(conninfo: str, run_id: str, step: str) -> Iterator[StepOutcome]:
    """Record ``step`` of ``run_id`` as running, then success or failed with the error."""
    outcome = StepOutcome()
    _write(conninfo, run_id, step, "running", outcome)
    try:
        yield outcome
    except BaseException as err:
        # Stored for everyone who reads ops.run_log: no connection secret in it.
        outcome.detail = {**outcome.detail, "error": redact_url(f"{type(err).__name__}: {err}")}
        _write(conninfo, run_id, step, "failed", outcome)
        raise
    _write(conninfo, run_id, step, "success", outcome)
