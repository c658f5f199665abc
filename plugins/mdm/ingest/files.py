"""File drops: find complete deliveries, check them, load them in delivery-id order.

For each delivery folder of a dataset (``<landing>/<dataset>/<YYYYMMDD-NN>/``):

1. no ``_manifest.json`` yet: still being written, left alone;
2. already in the ledger with the same manifest: nothing to do, or, if the
   manifest was written again, a duplicate re-send (recorded, nothing loaded);
3. a delta after a rejected delta (and no full since): blocked until the
   rejected one is re-sent or skipped (``skip=``);
4. otherwise checked (manifest, checksums, encoding, header, row counts),
   parsed, COPYed into a detached batch table, gated by Great Expectations,
   and attached to ``raw.<dataset>`` in the transaction that updates the ledger.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from mdm.connections import ConnParams, conninfo
from mdm.ingest import gate, ledger, load, raw_tables
from mdm.ingest.errors import DeliveryRejectedError
from mdm.ingest.manifest import (
    MANIFEST,
    Manifest,
    ManifestFile,
    PendingFolder,
    read_manifest,
    scan_landing,
    verify_files,
)
from mdm.ingest.parse import ParsedFile, parse_csv, parse_jsonl
from mdm.registry import Dataset

logger = logging.getLogger(__name__)


@dataclass
class DeliveryOutcome:
    dataset: str
    delivery_id: str
    status: (
        str  # loaded | partially_quarantined | rejected | blocked | duplicate | conflicting_resend
    )
    rows_declared: int | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_code: str | None = None
    error: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    @property
    def is_problem(self) -> bool:
        return self.status in ("rejected", "blocked", "conflicting_resend")


@dataclass
class IngestReport:
    dataset: str
    outcomes: list[DeliveryOutcome] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # folders without a manifest yet
    skipped: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.is_problem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "deliveries": [vars(o) for o in self.outcomes],
            "incomplete": self.incomplete,
            "skipped": self.skipped,
        }


def _fingerprint(folder: Path) -> tuple[str, int]:
    path = folder / MANIFEST
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _blocking_delta(delivery_id: str, states: dict[str, tuple[str | None, str]]) -> str | None:
    """The rejected delta that blocks a delta ``delivery_id``, if any.

    ``states``: delivery id -> (mode, status). A loaded full after the rejected
    delta supersedes it: the full is the complete state.
    """
    blocker = None
    for other in sorted(states):
        if other >= delivery_id:
            break
        mode, status = states[other]
        if mode == "delta" and status == "rejected":
            blocker = blocker or other
        elif mode == "full" and status in ledger.LOADED:
            blocker = None
    return blocker


def ingest_file_drops(
    warehouse: ConnParams,
    landing: Path,
    spec: Dataset,
    run_id: str,
    skip: Sequence[str] = (),
    until: str | None = None,
) -> IngestReport:
    """Load every complete, new delivery of ``spec`` from ``landing``; return what happened.

    ``until`` (``YYYYMMDD``): leave deliveries extracted after that day for a later run (a
    replay of one day at a time).
    """
    report = IngestReport(spec.code)
    with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
        # One loader per dataset at a time (scheduler run + an engineer's CLI run).
        conn.execute("select pg_advisory_lock(hashtext(%s))", (f"mdm.ingest.{spec.code}",))
        try:
            raw_tables.ensure_raw_table(conn, spec)
            for delivery_id in skip:
                if ledger.skip(conn, spec.code, delivery_id, run_id):
                    report.skipped.append(delivery_id)
                    logger.warning("%s/%s skipped by the engineer", spec.code, delivery_id)
            for folder in scan_landing(landing, spec.code):
                if until and folder.delivery_id[:8] > until:
                    continue
                if not folder.complete:
                    report.incomplete.append(folder.delivery_id)
                    continue
                outcome = _consider(conn, warehouse, spec, folder, run_id)
                if outcome:
                    report.outcomes.append(outcome)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (f"mdm.ingest.{spec.code}",))
    if report.incomplete:
        logger.info("%s: waiting for manifests of %s", spec.code, report.incomplete)
    return report


def _consider(
    conn: psycopg.Connection,
    warehouse: ConnParams,
    spec: Dataset,
    folder: PendingFolder,
    run_id: str,
) -> DeliveryOutcome | None:
    code, delivery_id = spec.code, folder.delivery_id
    fingerprint, mtime_ns = _fingerprint(folder.path)
    known = ledger.entries(conn, code)
    entry = known.get(delivery_id)
    if entry and entry.status in (*ledger.LOADED, "rejected", "skipped"):
        if entry.manifest_mtime_ns == mtime_ns:
            return None  # seen before: a rescan, not a new arrival
        # Re-sent. A rejected or skipped delivery is checked again (its files may be fixed
        # under the same manifest); a loaded one never loads twice.
        ledger.record(conn, code, delivery_id, manifest_mtime_ns=mtime_ns)
        if entry.status in ledger.LOADED and entry.manifest_sha256 == fingerprint:
            ledger.event(conn, code, delivery_id, "duplicate", run_id, status=entry.status)
            logger.info("%s/%s re-sent unchanged: no-op", code, delivery_id)
            return DeliveryOutcome(code, delivery_id, "duplicate")
        if entry.status in ledger.LOADED:
            message = (
                "re-sent with different content after it was loaded; the loaded version "
                "stays. A correction must come as a new delivery id"
            )
            ledger.event(conn, code, delivery_id, "conflicting_resend", run_id, error=message)
            logger.error("%s/%s %s", code, delivery_id, message)
            return DeliveryOutcome(
                code,
                delivery_id,
                "conflicting_resend",
                error_code="conflicting_resend",
                error=f"{code}/{delivery_id}: {message}",
            )

    try:
        manifest = read_manifest(folder.path, code)
    except DeliveryRejectedError as err:
        return _reject(conn, spec, delivery_id, None, err, run_id, fingerprint, mtime_ns)

    states = {k: (v.mode, v.status) for k, v in known.items() if k != delivery_id}
    blocker = _blocking_delta(delivery_id, states) if manifest.mode == "delta" else None
    if blocker:
        message = (
            f"{code}/{delivery_id}: blocked by the rejected delta {blocker}, which it follows. "
            f"To do: have {blocker} re-sent corrected, or skip it "
            f"(`mdm ingest --dataset {code} --skip {blocker}` or DAG param skip)"
        )
        ledger.record(
            conn,
            code,
            delivery_id,
            channel="file",
            mode=manifest.mode,
            status="blocked",
            manifest_sha256=fingerprint,
            manifest_mtime_ns=mtime_ns,
            run_id=run_id,
            rows_declared=manifest.rows_declared,
            error_code="blocked",
            error=message,
        )
        if not entry or entry.status != "blocked":
            ledger.event(conn, code, delivery_id, "blocked", run_id, by=blocker)
        logger.warning("%s", message)
        return DeliveryOutcome(
            code,
            delivery_id,
            "blocked",
            manifest.rows_declared,
            error_code="blocked",
            error=message,
        )

    later_loaded = any(k > delivery_id and s in ledger.LOADED for k, (_, s) in states.items())
    ledger.record(
        conn,
        code,
        delivery_id,
        channel="file",
        mode=manifest.mode,
        status="loading",
        provider=manifest.provider,
        extract_time=manifest.extract_time,
        declared_encoding=manifest.encoding,
        manifest_sha256=fingerprint,
        manifest_mtime_ns=mtime_ns,
        rows_declared=manifest.rows_declared,
        rows_loaded=None,
        rows_quarantined=None,
        error_code=None,
        error=None,
        out_of_order=later_loaded,
        run_id=run_id,
        attempts=(entry_attempts(conn, code, delivery_id) + 1),
        started_at=ledger.now(conn),
        finished_at=None,
    )
    try:
        verify_files(folder.path, manifest)
        table = raw_tables.create_batch_table(conn, spec, delivery_id)
        parsed, loaded = [], 0
        for listed in manifest.files:
            operation = default_operation(spec, manifest.mode)
            raw_tables.set_batch_defaults(conn, spec, delivery_id, listed.name, operation)
            result_file, rows = _load_file(
                conn, warehouse, table, spec, manifest, folder.path, listed
            )
            parsed.append(result_file)
            loaded += rows
        previous_full = _previous_full_rows(conn, code, delivery_id)
        result = gate.validate(
            warehouse,
            spec,
            manifest.mode,
            "raw",
            raw_tables.partition_name(spec, delivery_id),
            previous_full,
        )
        if not result.success:
            with conn.transaction():
                gate.store(conn, code, delivery_id, result)
            raise DeliveryRejectedError(
                "gate_failed",
                f"failed the Great Expectations gate: {result.summary()} "
                f"(previous full delivery: {previous_full} rows)",
                action="check the extract with the department; the full result is in "
                "ops.validation_result",
            )
    except DeliveryRejectedError as err:
        raw_tables.drop_batch_table(conn, spec, delivery_id)
        return _reject(conn, spec, delivery_id, manifest.mode, err, run_id, fingerprint, mtime_ns)
    except BaseException:
        # Infrastructure trouble (database, disk): leave the ledger at 'loading' and let the
        # task retry; the batch table is rebuilt from scratch next time.
        logger.exception("%s/%s: load interrupted", code, delivery_id)
        raise

    quarantined = [q for p in parsed for q in p.quarantined]
    extra = sorted({c for p in parsed for c in p.extra_columns})
    missing = sorted({c for p in parsed for c in p.missing_columns})
    status = "partially_quarantined" if quarantined else "loaded"
    raw_tables.analyze_batch_table(conn, spec, delivery_id)
    with conn.transaction():
        raw_tables.attach_batch_table(conn, spec, delivery_id)
        load.store_quarantine(conn, code, delivery_id, quarantined, run_id)
        gate.store(conn, code, delivery_id, result)
        ledger.record(
            conn,
            code,
            delivery_id,
            status=status,
            rows_loaded=loaded,
            rows_quarantined=len(quarantined),
            extra_columns=extra,
            missing_columns=missing,
            finished_at=ledger.now(conn),
        )
        ledger.event(
            conn,
            code,
            delivery_id,
            status,
            run_id,
            rows_loaded=loaded,
            rows_quarantined=len(quarantined),
            extra_columns=extra,
            gate_warnings=[f["expectation"] + ":" + str(f.get("column")) for f in result.failures],
        )
    logger.info(
        "%s/%s %s: %d rows loaded, %d quarantined%s",
        code,
        delivery_id,
        status,
        loaded,
        len(quarantined),
        f", extra columns ignored: {extra}" if extra else "",
    )
    return DeliveryOutcome(
        code,
        delivery_id,
        status,
        manifest.rows_declared,
        loaded,
        len(quarantined),
        extra_columns=extra,
        missing_columns=missing,
    )


def default_operation(spec: Dataset, mode: str) -> str | None:
    """The operation of rows that do not carry one: F in a full delivery, I in a delta of an
    insert-only dataset (no CZBS column); None where each row carries CZBS."""
    if mode == "full":
        return "F"
    return None if "CZBS" in spec.column_names else "I"


def _load_file(
    conn: psycopg.Connection,
    warehouse: ConnParams,
    table: sql.Composable,
    spec: Dataset,
    manifest: Manifest,
    folder: Path,
    entry: ManifestFile,
) -> tuple[ParsedFile, int]:
    """Check one file and COPY its rows into the batch table; return the parse and row count."""
    path = folder / entry.name
    data = path.read_bytes()
    if spec.format == "jsonl":
        parsed = parse_jsonl(spec, manifest.mode, entry.name, data, manifest.codec)
        _check_rows(parsed, entry)
        return parsed, load.copy_table(conn, table, parsed.table)
    fast = None
    header = _plain_header(data, manifest.codec, spec, manifest.mode)
    if manifest.mode == "full" and header:
        fast = load.CopyAsDelivered(conninfo(warehouse), table, str(path), header, manifest.codec)
    try:
        parsed = parse_csv(spec, manifest.mode, entry.name, data, manifest.codec)
        _check_rows(parsed, entry)
    except BaseException:
        if fast:
            fast.abandon()
        raise
    if fast and parsed.copyable_as_delivered:
        if fast.finish(parsed.table.num_rows):
            return parsed, parsed.table.num_rows
    elif fast:
        fast.abandon()
    return parsed, load.copy_table(conn, table, parsed.table)


def _plain_header(data: bytes, codec: str, spec: Dataset, mode: str) -> list[str] | None:
    """The raw column names of the header, if every one is a registry column, else None."""
    end = data.find(b"\n")
    if end < 0:
        return None
    try:
        line = data[:end].decode(codec).lstrip("\ufeff").rstrip("\r")
    except UnicodeDecodeError:
        return None
    names = [n.strip().upper() for n in line.split(",")]
    known = set(spec.file_columns(mode))
    if '"' in line or len(set(names)) != len(names) or not set(names) <= known:
        return None
    return [n.lower() for n in names]


def _check_rows(parsed: ParsedFile, entry: ManifestFile) -> None:
    if parsed.records != entry.rows:
        raise DeliveryRejectedError(
            "row_count_mismatch",
            f"the file has {parsed.records} data rows, the manifest says {entry.rows}",
            entry.name,
        )


def _reject(
    conn: psycopg.Connection,
    spec: Dataset,
    delivery_id: str,
    mode: str | None,
    err: DeliveryRejectedError,
    run_id: str,
    fingerprint: str,
    mtime_ns: int,
) -> DeliveryOutcome:
    message = err.describe(spec.code, delivery_id)
    with conn.transaction():
        ledger.record(
            conn,
            spec.code,
            delivery_id,
            channel="file",
            mode=mode,
            status="rejected",
            manifest_sha256=fingerprint,
            manifest_mtime_ns=mtime_ns,
            rows_loaded=0,
            rows_quarantined=0,
            error_code=err.code,
            error=message,
            run_id=run_id,
            finished_at=ledger.now(conn),
        )
        ledger.event(conn, spec.code, delivery_id, "rejected", run_id, code=err.code, error=message)
    logger.error("delivery rejected: %s", message)
    return DeliveryOutcome(spec.code, delivery_id, "rejected", error_code=err.code, error=message)


def _previous_full_rows(conn: psycopg.Connection, dataset: str, delivery_id: str) -> int | None:
    row = conn.execute(
        """select rows_loaded from ops.delivery
           where dataset = %s and mode = 'full' and status in ('loaded', 'partially_quarantined')
             and delivery_id < %s
           order by delivery_id desc limit 1""",
        (dataset, delivery_id),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def entry_attempts(conn: psycopg.Connection, dataset: str, delivery_id: str) -> int:
    row = conn.execute(
        "select attempts from ops.delivery where dataset = %s and delivery_id = %s",
        (dataset, delivery_id),
    ).fetchone()
    return int(row[0]) if row else 0
