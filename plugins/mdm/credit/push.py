"""The monthly push to the financing-service platform: the month's evaluations as a table
(``credit.monthly_result``) and a file drop in the outbox (CSV UTF-8 and a manifest with its
row count and sha256). A month is pushed once; pushing it again replaces it with the same
rows and bytes when nothing changed (safe to rerun)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from mdm.connections import ConnParams, conninfo
from mdm.settings import TIMEZONE

logger = logging.getLogger(__name__)

COLUMNS = [
    "legal_person_id", "uscc", "name", "score", "grade", "rules_version", "as_of_date",
    "stale_sources",
]  # fmt: skip


def current_month(now: dt.datetime | None = None) -> dt.date:
    """The first day of this month in Beijing."""
    today = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(TIMEZONE)).date()
    return today.replace(day=1)


FILE_NAME = "credit_evaluation.csv"


def push_folder(outbox: Path, month: dt.date) -> Path:
    """A month's drop, as the platform's other outbound drops: a folder per delivery whose
    ``_manifest.json`` is written last (a reader takes a folder only once it is there)."""
    return outbox / "credit" / f"{month:%Y%m}"


def render_csv(rows: list[tuple[Any, ...]]) -> bytes:
    """The file's bytes (pure): header and one line per legal person, in id order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([";".join(v) if isinstance(v, list) else v for v in row])
    return buffer.getvalue().encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def monthly_push(
    warehouse: ConnParams,
    outbox: Path,
    run_id: str,
    month: dt.date | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Push ``month`` (default this month) unless it was pushed already (``force``: again)."""
    month = month or current_month()
    with psycopg.connect(conninfo(warehouse)) as conn:
        if conn.execute("select to_regclass('credit.evaluation')").fetchone() == (None,):
            logger.info("credit push %s: no evaluation built yet, nothing pushed", month)
            return {"month": month.isoformat(), "pushed": False, "rows": 0, "file": None}
        done = conn.execute(
            "select rows, file from credit.monthly_push where month = %s", (month,)
        ).fetchone()
        if done and not force:
            logger.info("credit push %s: already pushed (%s rows, %s)", month, *done)
            return {"month": month.isoformat(), "pushed": False, "rows": done[0], "file": done[1]}
        with conn.transaction():
            conn.execute("delete from credit.monthly_result where month = %s", (month,))
            conn.execute(
                """insert into credit.monthly_result (month, legal_person_id, uscc, name, score,
                       grade, rules_version, as_of_date, stale_sources)
                   select %s, legal_person_id, uscc, name, score, grade, rules_version,
                          as_of_date, stale_sources
                   from credit.evaluation""",
                (month,),
            )
            rows = conn.execute(
                f"select {', '.join(COLUMNS)} from credit.monthly_result "  # noqa: S608
                "where month = %s order by legal_person_id",
                (month,),
            ).fetchall()
            data = render_csv(rows)
            digest = hashlib.sha256(data).hexdigest()
            folder = push_folder(outbox, month)
            path = folder / FILE_NAME
            _write_atomically(path, data)
            manifest = {"month": f"{month:%Y-%m}", "file": path.name, "rows": len(rows),
                        "sha256": digest, "columns": COLUMNS}  # fmt: skip
            _write_atomically(
                folder / "_manifest.json",
                (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
            )
            conn.execute(
                """insert into credit.monthly_push (month, rows, file, sha256, run_id)
                   values (%s, %s, %s, %s, %s)
                   on conflict (month) do update set rows = excluded.rows, file = excluded.file,
                       sha256 = excluded.sha256, run_id = excluded.run_id, pushed_at = now()""",
                (month, len(rows), str(path), digest, run_id),
            )
    logger.info("credit push %s: %d evaluations to %s", month, len(rows), path)
    return {"month": month.isoformat(), "pushed": True, "rows": len(rows), "file": str(path),
            "sha256": digest}  # fmt: skip
