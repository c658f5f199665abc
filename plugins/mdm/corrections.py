"""The correction loop (issue 21, interface standard 6.1 and 4.19): found, reported, fed back,
confirmed.

Found: dbt's ``correction.correction_problems`` (models/corrections, one model per kind of
problem), and the problems data users and stewards report (:func:`report_problem`). Each
problem is one request in ``correction.request`` (never two for the same dataset, record,
column and delivered value), and every change of its state is a row of
``correction.request_event``:

- ``open`` (found) -> ``reported`` when the outbox file of 6.1 carrying it is written;
- an answer of ``jcfk`` ``1`` (corrected at the source) -> ``answered``; ``2`` -> ``rejected``
  (closed: the value is accepted and never raised again; a later answer ``1`` reopens the
  follow-up);
- ``confirmed`` only when a later delivery carries another value for that record and column
  and the problem is gone from it;
- a confirmed problem found again in a later delivery (the same value back) -> ``reopened``,
  and it is sent again.

The DAG ``mdm_corrections`` runs :func:`run_corrections` after each publish.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdm.connections import ConnParams, conninfo
from mdm.runlog import logged_step
from mdm.settings import Settings

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

OPEN, REPORTED, ANSWERED, CONFIRMED, REJECTED, REOPENED = (
    "open", "reported", "answered", "confirmed", "rejected", "reopened",
)  # fmt: skip
STATES = (OPEN, REPORTED, ANSWERED, CONFIRMED, REJECTED, REOPENED)
TO_SEND = (OPEN, REOPENED)
FOLLOWED = (OPEN, REPORTED, ANSWERED, REOPENED)  # a later delivery may confirm these
PROBLEMS = "correction.correction_problems"
ANSWERS = "staging.stg_jcfk__correction_answers"
BUILD = ["build", "--select", "path:models/corrections", "--exclude", "resource_type:unit_test"]
# Standard 6.1's columns of corrections.csv, in order.
OUTBOX_COLUMNS = ("JCBH", "SJJ", "JLBS", "ZDM", "YZ", "WTLX", "JYZ", "ZJ", "TCRQ")
REQUEST_TYPES = (
    "ID_CHECK", "ID_RECORD_MISMATCH", "ID_OTHER_PERSON", "CODE_CHECK", "DATE_INVALID",
    "SOURCE_CONFLICT", "MISSING_REQUIRED", "USER_REPORT",
)  # fmt: skip


def delivered_column(dataset: str, column: str) -> str:
    """The column as the standard spells it in ``dataset`` (raw tables hold it lower-case),
    or ``<column>.<key>`` for a key of a JSON-object column (a certificate's surface field,
    ``zmxx.mc``); raises ValueError for a column the dataset does not have."""
    from mdm.registry import dataset as spec_of

    base, dot, key = column.partition(".")
    for spec in spec_of(dataset).columns:
        if spec.name.lower() != base.lower():
            continue
        if not dot:
            return spec.name
        if key and spec.format == "json_object":
            return f"{spec.name}.{key}"
    raise ValueError(
        f"dataset {dataset} has no column {column!r}; its columns: "
        f"{', '.join(spec_of(dataset).column_names)}"
    )


def business_date(conn: psycopg.Connection) -> dt.date:
    """The platform's business date (TCRQ): the date of the newest delivery loaded (file drops
    are named ``YYYYMMDD-NN`` by their extract date), else today in Beijing."""
    row = conn.execute(
        "select max(left(delivery_id, 8)) from ops.delivery "
        "where delivery_id ~ '^[0-9]{8}-' and status in ('loaded', 'partially_quarantined')"
    ).fetchone()
    if row and row[0]:
        return dt.datetime.strptime(row[0], "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def _event(
    conn: psycopg.Connection,
    request_id: str,
    state_from: str | None,
    state_to: str,
    reason: str,
    **extra: Any,
) -> None:
    conn.execute(
        "insert into correction.request_event (request_id, state_from, state_to, reason, "
        "answer_sequence, delivery_id, detail) values (%s, %s, %s, %s, %s, %s, %s)",
        (
            request_id, state_from, state_to, reason, extra.get("answer_sequence"),
            extra.get("delivery_id"), json.dumps(extra.get("detail") or {}, ensure_ascii=False),
        ),
    )  # fmt: skip
    if state_from != state_to:
        conn.execute(
            "update correction.request set state = %s, updated_at = now() where request_id = %s",
            (state_to, request_id),
        )


def _new_request_id(conn: psycopg.Connection, raised_on: dt.date) -> str:
    (number,) = conn.execute("select nextval('correction.request_number')").fetchone()  # type: ignore[misc]
    return f"JC{raised_on:%Y%m%d}{number:06d}"


def raise_requests(conn: psycopg.Connection, raised_on: dt.date) -> dict[str, int]:
    """A request for each problem found that has none (same dataset, record, column and
    value); a confirmed request whose problem is found again is reopened. A rejected one stays
    closed: its value was accepted."""
    rows = conn.execute(
        f"""select p.dataset, p.record_key, p.column_name, coalesce(p.delivered_value, ''),
                  p.problem, p.request_type, p.evidence, p.suggested_value, p.department,
                  r.request_id, r.state
           from {PROBLEMS} p
           left join correction.request r
             on r.dataset = p.dataset and r.record_key = p.record_key
            and lower(r.column_name) = p.column_name
            and r.delivered_value = coalesce(p.delivered_value, '')
           order by p.dataset, p.record_key, p.column_name"""  # noqa: S608 - constant names
    ).fetchall()
    raised = reopened = 0
    for ds, key, column, value, problem, kind, evidence, suggested, department, rid, state in rows:
        if rid is None:
            rid = _new_request_id(conn, raised_on)
            conn.execute(
                "insert into correction.request (request_id, dataset, record_key, column_name, "
                "delivered_value, problem, request_type, evidence, suggested_value, department, "
                "state, raised_on) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    rid, ds, key, delivered_column(ds, column), value, problem, kind, evidence,
                    suggested, department, OPEN, raised_on,
                ),
            )  # fmt: skip
            _event(conn, rid, None, OPEN, f"found: {problem}")
            raised += 1
        elif state == CONFIRMED:
            _event(conn, rid, state, REOPENED, "the problem is back in a later delivery")
            reopened += 1
    return {"raised": raised, "reopened": reopened}


def apply_answers(conn: psycopg.Connection) -> dict[str, int]:
    """The departments' answers (``jcfk``) not applied yet, in answer order: ``1`` corrected at
    the source -> answered (confirmed only by a later delivery), ``2`` -> rejected."""
    exists = conn.execute("select to_regclass(%s) is not null", (ANSWERS,)).fetchone()
    if not exists or not exists[0]:
        return {"applied": 0, "unknown_request": 0}
    answers = conn.execute(
        f"""select a.request_id, a.answer_sequence, a.outcome, a.explanation, a.handled_date,
                  a.delivery_id, r.state
           from {ANSWERS} a
           left join correction.request r on r.request_id = a.request_id
           where a.answer_sequence is not null and a.outcome is not null
             and not exists (
                 select 1 from correction.request_event e
                 where e.request_id = a.request_id and e.answer_sequence = a.answer_sequence)
           order by a.request_id, a.answer_sequence"""  # noqa: S608 - constant names
    ).fetchall()
    applied = unknown = 0
    state_now: dict[str, str] = {}
    for rid, sequence, outcome, explanation, handled, delivery, state in answers:
        if state is None:
            logger.warning(
                "jcfk delivery %s answers request %s (answer %s), which the platform never "
                "raised: ignored; ask the department to check the JCBH",
                delivery, rid, sequence,
            )  # fmt: skip
            unknown += 1
            continue
        current = state_now.get(rid, state)
        target = REJECTED if outcome == "rejected" else ANSWERED
        if current == CONFIRMED:
            target = CONFIRMED  # an answer after the confirming delivery changes nothing
        reason = (
            "rejected by the department: the value is accepted"
            if outcome == "rejected"
            else "the department corrected it at the source"
        )
        _event(
            conn, rid, current, target, reason, answer_sequence=sequence, delivery_id=delivery,
            detail={"explanation": explanation, "handled_date": str(handled or "")},
        )  # fmt: skip
        state_now[rid] = target
        applied += 1
    return {"applied": applied, "unknown_request": unknown}


def _current_values(
    conn: psycopg.Connection, dataset: str, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str] | None]:
    """(record key, column) -> (value, delivery id) of the record's latest delivered row, or
    None when the record's last operation deleted it."""
    from psycopg import sql

    from mdm.registry import dataset as spec_of

    spec = spec_of(dataset)
    # the record key as staging writes it (keys joined by the separator)
    parts = [sql.SQL("btrim({})").format(sql.Identifier(k.lower())) for k in spec.record_key]
    key = parts[0]
    for part in parts[1:]:
        key = sql.SQL("{} || {} || {}").format(key, sql.Literal(spec.record_key_separator), part)
    out: dict[tuple[str, str], tuple[str, str] | None] = {}
    by_column: dict[str, list[str]] = {}
    for record_key, column in wanted:
        by_column.setdefault(column.lower(), []).append(record_key.split("#", 1)[0])
    for column, keys in by_column.items():
        base, _, json_key = column.partition(".")  # zmxx.mc: key mc of the JSON column zmxx
        query = sql.SQL(
            "select distinct on (k) k, {column}, _delivery_id, _operation from ("
            "select {key} as k, * from {table}) r where k = any(%s) "
            "order by k, _delivery_id desc, length(_file) desc, _file desc, _line desc"
        ).format(column=sql.Identifier(base), key=key, table=sql.Identifier("raw", dataset))
        for k, value, delivery, operation in conn.execute(query, (keys,)):
            if json_key:
                value = json_value(value, json_key)
            out[(k, column)] = None if operation == "D" else (value or "", delivery)
    return out


def json_value(text: str | None, key: str) -> str:
    """The value of ``key`` in a delivered JSON object as the problem models read it
    (PostgreSQL's ``->>``): text as is, another value as JSON, '' when absent or not an
    object."""
    try:
        document = json.loads(text or "")
    except ValueError:
        return ""
    value = document.get(key) if isinstance(document, dict) else None
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def follow_up(conn: psycopg.Connection) -> dict[str, int]:
    """Confirm the requests whose record a later delivery carries with another value for the
    column, and without any problem found in it."""
    pending = conn.execute(
        f"""select r.request_id, r.dataset, r.record_key, r.column_name, r.delivered_value,
                  r.state,
                  exists (select 1 from {PROBLEMS} p
                          where p.dataset = r.dataset and p.record_key = r.record_key
                            and p.column_name = lower(r.column_name)) as still_wrong
           from correction.request r
           where r.state = any(%s) and r.origin = 'platform'
           order by r.dataset, r.request_id""",  # noqa: S608 - constant names
        (list(FOLLOWED),),
    ).fetchall()
    by_dataset: dict[str, list[tuple[Any, ...]]] = {}
    for row in pending:
        by_dataset.setdefault(row[1], []).append(row)
    confirmed = 0
    for ds, rows in sorted(by_dataset.items()):
        current = _current_values(conn, ds, [(r[2], r[3]) for r in rows])
        for rid, _, key, column, value, state, still_wrong in rows:
            now = current.get((key.split("#", 1)[0], column.lower()))
            if now is None or now[0] == value or still_wrong:
                continue
            _event(
                conn, rid, state, CONFIRMED,
                "a later delivery carries a corrected value", delivery_id=now[1],
                detail={"value": now[0]},
            )  # fmt: skip
            confirmed += 1
    return {"confirmed": confirmed}


@dataclass(frozen=True)
class OutboxDelivery:
    dataset: str
    delivery_id: str
    folder: Path
    requests: int


def _next_delivery_id(folder: Path, day: dt.date) -> str:
    taken = {p.name for p in folder.glob(f"{day:%Y%m%d}-*")} if folder.is_dir() else set()
    return next(
        f"{day:%Y%m%d}-{n:02d}" for n in range(1, 100) if f"{day:%Y%m%d}-{n:02d}" not in taken
    )


def corrections_csv(rows: list[dict[str, str]]) -> bytes:
    """corrections.csv of standard 6.1: UTF-8, header, RFC 4180 quoting."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, OUTBOX_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_outbox_delivery(
    outbox: Path, dataset: str, provider: str, day: dt.date, rows: list[dict[str, str]]
) -> OutboxDelivery:
    """One file drop of 6.1: ``<outbox>/<dataset>/<YYYYMMDD-NN>/corrections.csv`` and its
    ``_manifest.json`` (mode ``corrections``) written last, so a reader never sees half."""
    delivery_id = _next_delivery_id(outbox / dataset, day)
    folder = outbox / dataset / delivery_id
    folder.mkdir(parents=True)
    data = corrections_csv(rows)
    (folder / "corrections.csv").write_bytes(data)
    manifest = {
        "dataset": dataset,
        "delivery_id": delivery_id,
        "provider": provider,
        "extract_time": dt.datetime.combine(day, dt.time(8)).isoformat() + "+08:00",
        "mode": "corrections",
        "encoding": "UTF-8",
        "files": [
            {
                "name": "corrections.csv",
                "rows": len(rows),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        ],
    }
    (folder / "_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    )
    return OutboxDelivery(dataset, delivery_id, folder, len(rows))


def send_requests(conn: psycopg.Connection, outbox: Path, day: dt.date) -> list[OutboxDelivery]:
    """Write the requests not sent yet (open, reopened) to the owning departments, one file
    drop per dataset, and mark them reported. A request keeps its JCBH when sent again."""
    from mdm.registry import dataset as spec_of

    rows = conn.execute(
        "select request_id, dataset, record_key, column_name, delivered_value, request_type, "
        "coalesce(suggested_value, ''), coalesce(evidence, ''), raised_on, state "
        "from correction.request where state = any(%s) order by dataset, request_id",
        (list(TO_SEND),),
    ).fetchall()
    by_dataset: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_dataset.setdefault(row[1], []).append(row)
    sent = []
    for ds, requests in sorted(by_dataset.items()):
        drop = write_outbox_delivery(
            outbox, ds, spec_of(ds).provider, day,
            [dict(zip(OUTBOX_COLUMNS, (*r[:8], r[8].isoformat()), strict=True)) for r in requests],
        )  # fmt: skip
        for r in requests:
            conn.execute(
                "update correction.request set sent_in = %s where request_id = %s",
                (drop.delivery_id, r[0]),
            )
            _event(conn, r[0], r[9], REPORTED, f"sent to {spec_of(ds).department}",
                   delivery_id=drop.delivery_id)  # fmt: skip
        sent.append(drop)
        logger.info("%s: %d correction request(s) in %s", ds, drop.requests, drop.folder)
    return sent


def report_problem(
    conn: psycopg.Connection,
    dataset: str,
    record_key: str,
    column: str,
    value: str,
    problem: str,
    suggested: str | None = None,
    origin: str = "user",
) -> tuple[str, bool]:
    """A problem a data user or steward reports (request type USER_REPORT): the request id,
    and whether it is new (the same dataset, record, column and value reported before keeps
    its request)."""
    from mdm.registry import dataset as spec_of

    spec = spec_of(dataset)  # raises for an unknown dataset
    column = delivered_column(dataset, column)
    found = conn.execute(
        "select request_id from correction.request where dataset = %s and record_key = %s "
        "and lower(column_name) = lower(%s) and delivered_value = %s",
        (dataset, record_key, column, value),
    ).fetchone()
    if found:
        return str(found[0]), False
    day = business_date(conn)
    rid = _new_request_id(conn, day)
    department = _fixing_department(conn, dataset, record_key) or spec.department
    conn.execute(
        "insert into correction.request (request_id, dataset, record_key, column_name, "
        "delivered_value, problem, request_type, evidence, suggested_value, department, origin, "
        "state, raised_on) values (%s, %s, %s, %s, %s, %s, 'USER_REPORT', %s, %s, %s, %s, %s, %s)",
        (
            rid, dataset, record_key, column, value, problem, f"reported by {origin}", suggested,
            department, origin, OPEN, day,
        ),
    )  # fmt: skip
    _event(conn, rid, None, OPEN, f"reported by a {origin}: {problem}")
    return rid, True


def _fixing_department(conn: psycopg.Connection, dataset: str, record_key: str) -> str | None:
    """The department that fixes a record other than the dataset's owner: a library
    certificate's (``dzzz_zzxx``) is its issuing department, the one of the business record it
    was matched to (as the platform's own certificate requests, ADR 0018); None otherwise."""
    from mdm.registry import dataset as spec_of

    if dataset != "dzzz_zzxx":
        return None
    found = conn.execute("select to_regclass('intermediate.int_certificate_matches')").fetchone()
    if not found or found[0] is None:
        return None
    row = conn.execute(
        "select business_dataset from intermediate.int_certificate_matches where record_key = %s",
        (record_key,),
    ).fetchone()
    return spec_of(row[0]).department if row and row[0] else None


def list_requests(
    conn: psycopg.Connection, department: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """The requests, newest first, optionally of one department and/or state."""
    cursor = conn.execute(
        "select request_id, department, dataset, record_key, column_name, delivered_value, "
        "request_type, state, raised_on, sent_in, suggested_value, evidence "
        "from correction.request "
        "where (%s::text is null or department = %s) and (%s::text is null or state = %s) "
        "order by raised_on desc, request_id",
        (department, department, state, state),
    )
    names = [c.name for c in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def counts_by_state(conn: psycopg.Connection) -> dict[str, int]:
    return {
        state: int(n)
        for state, n in conn.execute(
            "select state, count(*) from correction.request group by 1 order by 1"
        )
    }


def run_corrections(
    settings: Settings, warehouse: ConnParams, run_id: str, outbox: Path | None = None
) -> dict[str, Any]:
    """The loop once: build the problems, apply the answers, confirm what a later delivery
    corrected, raise new requests (reopen returned problems), send what is not sent."""
    import psycopg

    from mdm.transform import node_summary, run_dbt

    with logged_step(conninfo(warehouse), run_id, "corrections") as outcome:
        nodes = run_dbt(settings, warehouse, BUILD)
        with psycopg.connect(conninfo(warehouse)) as conn:
            day = business_date(conn)
            detail: dict[str, Any] = {"business_date": day.isoformat()}
            detail |= apply_answers(conn)
            detail |= follow_up(conn)
            detail |= raise_requests(conn, day)
            sent = send_requests(conn, outbox or settings.outbox_dir, day)
            detail["sent"] = {d.dataset: d.requests for d in sent}
            detail["by_state"] = counts_by_state(conn)
        outcome.rows_affected = detail["raised"] + detail["applied"] + detail["confirmed"]
        outcome.detail = detail | {"nodes": node_summary(nodes)}
    logger.info("corrections: %s", {k: v for k, v in detail.items() if k != "nodes"})
    return outcome.detail
