"""File drops: find complete deliveries, check them, load them in delivery-id order.

For each delivery folder of a dataset (``<landing>/<dataset>/<YYYYMMDD-NN>/``):

1. no ``_manifest.json`` yet: still being written, left alone;
2. already decided, recognised by the manifest's content (its sha256, not when it
   was written): a loaded delivery never loads again (the same manifest written again
   is a recorded duplicate, another one a recorded conflicting re-send); a rejected
   or skipped one is checked again only under a new manifest, or, when its files did
   not match the manifest (missing, other checksum: a manifest written before its
   files), on every run until they do;
3. a delta after a rejected delta (and no full since): blocked until the
   rejected one is re-sent or skipped (``skip=``);
4. otherwise checked (manifest, checksums, encoding, header, row counts),
   each file read once, without following links, and parsed in batches, COPYed
   into a detached batch table, gated by Great Expectations,
   and attached to ``raw.<dataset>`` in the transaction that updates the ledger.

Whatever a delivered byte can make go wrong rejects that delivery, with what to do; it
never stops the dataset's later deliveries.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from mdm.connections import ConnParams, conninfo
from mdm.ingest import gate, ledger, load, raw_tables
from mdm.ingest.errors import DeliveryRejectedError
from mdm.ingest.manifest import (
    Manifest,
    ManifestFile,
    PendingFolder,
    open_delivered,
    open_folder,
    read_manifest,
    read_manifest_bytes,
    scan_landing,
    unlisted_files,
)
from mdm.ingest.parse import CsvReader, JsonlReader, ParsedFile, convert_checked, printable
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
        conn.execute("select pg_advisory_lock(hashtext(%s))", (ledger.lock_key(spec.code),))
        try:
            raw_tables.ensure_raw_table(conn, spec)
            for delivery_id in skip:
                if ledger.skip(conn, spec.code, delivery_id, run_id):
                    if not raw_tables.is_attached(conn, spec, delivery_id):
                        raw_tables.drop_batch_table(conn, spec, delivery_id)  # a stuck load's
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
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (ledger.lock_key(spec.code),))
    if report.incomplete:
        logger.info("%s: waiting for manifests of %s", spec.code, report.incomplete)
    return report


# Rejections that describe files not (yet) matching their manifest: a manifest written before
# its files looks like this. Such a delivery is checked again on every run until it loads.
RECHECKED = ("missing_file", "checksum_mismatch")
# Errors raised by reading what a department delivered (not by the platform's own
# infrastructure): they reject the delivery instead of stopping the dataset.
DATA_ERRORS = (
    ValueError,
    UnicodeError,
    RecursionError,
    OverflowError,
    pa.ArrowException,
    psycopg.errors.DataError,
)


def _consider(
    conn: psycopg.Connection,
    warehouse: ConnParams,
    spec: Dataset,
    folder: PendingFolder,
    run_id: str,
) -> DeliveryOutcome | None:
    code, delivery_id = spec.code, folder.delivery_id
    known = ledger.entries(conn, code)
    entry = known.get(delivery_id)

    def unreadable(err: DeliveryRejectedError) -> DeliveryOutcome | None:
        if entry and entry.status in (*ledger.LOADED, "skipped"):
            # Decided before; what the folder holds now cannot be read as a re-send.
            logger.warning("%s: left as %s", err.describe(code, delivery_id), entry.status)
            return None
        return _reject(conn, spec, delivery_id, None, err, run_id, None, None, entry)

    try:
        folder_fd = open_folder(folder.path)
    except DeliveryRejectedError as err:
        return unreadable(err)
    try:
        try:
            data, mtime_ns = read_manifest_bytes(folder_fd)
        except DeliveryRejectedError as err:
            return unreadable(err)
        fingerprint = hashlib.sha256(data).hexdigest()
        if entry and not _worth_a_look(entry, fingerprint):
            return _seen_before(conn, code, delivery_id, entry, fingerprint, mtime_ns, run_id)
        try:
            manifest = read_manifest(folder.path, code, data)
        except DeliveryRejectedError as err:
            return _reject(conn, spec, delivery_id, None, err, run_id, fingerprint, mtime_ns, entry)
        return _check_and_load(
            conn, warehouse, spec, folder_fd, manifest, run_id, mtime_ns, known, entry
        )
    finally:
        os.close(folder_fd)


def _worth_a_look(entry: ledger.LedgerEntry, fingerprint: str) -> bool:
    """Whether a delivery the ledger knows is checked (again): recognised by the content of
    its manifest, not by when it was written."""
    if entry.status in ledger.LOADED:
        return False  # a loaded delivery never loads twice
    if entry.status == "rejected" and entry.error_code in RECHECKED:
        return True  # its files may have arrived or been fixed under the same manifest
    if entry.status in ("rejected", "skipped"):
        return entry.manifest_sha256 != fingerprint  # re-sent with another manifest
    return True  # blocked, or a load that was interrupted ('loading')


def _seen_before(
    conn: psycopg.Connection,
    code: str,
    delivery_id: str,
    entry: ledger.LedgerEntry,
    fingerprint: str,
    mtime_ns: int,
    run_id: str,
) -> DeliveryOutcome | None:
    """A delivery already decided: nothing to do, or a re-send recorded (nothing loaded)."""
    if entry.manifest_sha256 == fingerprint:
        if entry.status not in ledger.LOADED or entry.manifest_mtime_ns == mtime_ns:
            return None  # a rescan
        # The same manifest written again: a re-send, recorded once per write.
        ledger.record(conn, code, delivery_id, manifest_mtime_ns=mtime_ns)
        ledger.event(conn, code, delivery_id, "duplicate", run_id, status=entry.status)
        logger.info("%s/%s re-sent unchanged: no-op", code, delivery_id)
        return DeliveryOutcome(code, delivery_id, "duplicate")
    if ledger.reported(conn, code, delivery_id, "conflicting_resend", fingerprint):
        return None
    message = (
        "re-sent with a different manifest after it was loaded; the loaded version "
        "stays. To do: a correction must come as a new delivery id"
    )
    ledger.event(
        conn, code, delivery_id, "conflicting_resend", run_id, error=message,
        manifest_sha256=fingerprint,
    )  # fmt: skip
    logger.error("%s/%s %s", code, delivery_id, message)
    return DeliveryOutcome(
        code,
        delivery_id,
        "conflicting_resend",
        error_code="conflicting_resend",
        error=f"{code}/{delivery_id}: {message}",
    )


def _check_and_load(
    conn: psycopg.Connection,
    warehouse: ConnParams,
    spec: Dataset,
    folder_fd: int,
    manifest: Manifest,
    run_id: str,
    mtime_ns: int,
    known: dict[str, ledger.LedgerEntry],
    entry: ledger.LedgerEntry | None,
) -> DeliveryOutcome | None:
    code, delivery_id, fingerprint = spec.code, manifest.delivery_id, manifest.sha256
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
        try:
            for listed in manifest.files:  # all there before anything is read
                open_delivered(folder_fd, listed.name).close()
            unlisted = unlisted_files(folder_fd, manifest)
            if unlisted:
                logger.warning(
                    "%s/%s: files not in the manifest are ignored: %s", code, delivery_id, unlisted
                )
            table = raw_tables.create_batch_table(conn, spec, delivery_id)
            parsed, loaded = [], 0
            with tempfile.TemporaryDirectory(prefix="mdm-ingest-") as spool_dir:
                for number, listed in enumerate(manifest.files):
                    operation = default_operation(spec, manifest.mode)
                    raw_tables.set_batch_defaults(conn, spec, delivery_id, listed.name, operation)
                    spool = Path(spool_dir) / f"{number}.utf8"
                    result_file, rows = _load_file(
                        conn, warehouse, table, spec, manifest, folder_fd, listed, spool
                    )
                    spool.unlink()
                    parsed.append(result_file)
                    loaded += rows
        except DATA_ERRORS as err:
            # Whatever a delivered byte can make go wrong rejects this delivery only.
            logger.exception("%s/%s: unreadable", code, delivery_id)
            raise DeliveryRejectedError(
                "unreadable",
                f"the delivery could not be read: {type(err).__name__}: {printable(str(err))}",
                action="report this message to the platform team with the delivery; skip it "
                f"(`mdm ingest --dataset {code} --skip {delivery_id}`) if it holds the "
                "deltas after it back",
            ) from err
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
        return _reject(
            conn, spec, delivery_id, manifest.mode, err, run_id, fingerprint, mtime_ns, entry
        )
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
            # for the scorecard: the parts (coverage of a delivery split by city) and the
            # header as delivered (the field-naming rule)
            files=[p.name for p in parsed],
            header=list(dict.fromkeys(c for p in parsed for c in p.header_columns)),
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
    return None if "CZBS" in (n.upper() for n in spec.column_names) else "I"


def _load_file(
    conn: psycopg.Connection,
    warehouse: ConnParams,
    table: sql.Composable,
    spec: Dataset,
    manifest: Manifest,
    folder_fd: int,
    entry: ManifestFile,
    spool: Path,
) -> tuple[ParsedFile, int]:
    """Check one file and COPY its rows into the batch table; return the parse and row count.

    The file is read once, into a private UTF-8 spool, hashed on the way: every later
    read (the parse, the COPY as delivered) is of the spool, so the rows loaded come from
    the bytes the checksum was checked on. Rows go to the database batch by batch.
    """
    with open_delivered(folder_fd, entry.name) as source, open(spool, "w+b") as sink:
        check = convert_checked(source, manifest.codec, entry.name, sink, entry.sha256)
    with open(spool, "rb") as handle:
        reader: CsvReader | JsonlReader
        if spec.format == "jsonl":
            reader = JsonlReader(spec, manifest.mode, entry.name, handle, check)
        else:
            reader = CsvReader(spec, manifest.mode, entry.name, handle, check)
            header = _plain_header(reader.header_line, spec, manifest.mode)
            if manifest.mode == "full" and header and not check.quoted:
                loaded = _copy_as_delivered(warehouse, table, reader, str(spool), header, entry)
                if loaded is not None:
                    return reader.result(), loaded
                reader = CsvReader(spec, manifest.mode, entry.name, handle, check)
        loaded = load.copy_batches(conn, table, reader.batches())
        parsed = reader.result()
        _check_rows(parsed, entry)
        return parsed, loaded


def _copy_as_delivered(
    warehouse: ConnParams,
    table: sql.Composable,
    reader: CsvReader,
    spool: str,
    header: list[str],
    entry: ManifestFile,
) -> int | None:
    """The fast path: PostgreSQL COPYs the spool as it is while Python checks it; the rows
    it took, or None when the checks found something (then nothing of it stays)."""
    fast = load.CopyAsDelivered(conninfo(warehouse), table, spool, header)
    try:
        for _ in reader.batches():
            pass  # the checks only: the COPY loads the rows
        parsed = reader.result()
        _check_rows(parsed, entry)
    except BaseException:
        fast.abandon()
        raise
    if not parsed.copyable_as_delivered:
        fast.abandon()
        return None
    try:
        kept = fast.finish(parsed.records)
    except psycopg.Error as err:  # PostgreSQL read the file otherwise: load the parsed rows
        logger.warning(
            "%s: COPY as delivered failed (%s), rows COPYed from the parse", entry.name, err
        )
        return None
    return parsed.records if kept else None


def _plain_header(line: str, spec: Dataset, mode: str) -> list[str] | None:
    """The raw column names of the header, if every one is a registry column, else None."""
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
    fingerprint: str | None,
    mtime_ns: int | None,
    before: ledger.LedgerEntry | None,
) -> DeliveryOutcome | None:
    """Record a rejection; None (no new outcome) when a re-check gave the same one."""
    message = err.describe(spec.code, delivery_id)
    again = (
        before is not None
        and before.status == "rejected"
        and before.error_code == err.code
        and before.manifest_sha256 == fingerprint
    )
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
        if not again:
            ledger.event(
                conn, spec.code, delivery_id, "rejected", run_id, code=err.code, error=message
            )
    if again:
        logger.info("still rejected: %s", message)
        return None
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
