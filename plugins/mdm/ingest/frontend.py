"""Front-end database: incremental pulls by the ``GXSJ`` mark, and reconciliation.

A pull reads, in one repeatable-read snapshot of the department's table, the
rows with ``GXSJ`` above the mark minus an overlap window and the rows without
a ``GXSJ`` (all rows the first time) into a batch table, gates it like a file
delivery, and attaches it to ``raw.<dataset>`` in the transaction that moves
the mark and writes the ledger. ``SCBZ = '1'`` rows arrive as operation ``D``.

- **Overlap** (``MDM_FRONTEND_OVERLAP_MINUTES``): the source stamps ``GXSJ``
  when a transaction starts, app servers' clocks differ and a correction can
  lower ``GXSJ``, so a row committed after a pull can carry a ``GXSJ`` below
  that pull's mark. Rows read again that equal what ``raw`` holds for their
  record are not stored again (ledger ``rows_unchanged``), so the overlap and
  the null-``GXSJ`` rows cost no raw rows and inflate no count.
- **Mark**: the largest ``GXSJ`` read, but never past the source's own clock
  minus ``MDM_FRONTEND_MARK_LAG_MINUTES``: a row stamped in the future is
  stored and warned about (ledger ``warning``, event ``warning``) and cannot
  hide the rows stamped after it.
- **Reconciliation** (every ``MDM_FRONTEND_RECONCILE_HOURS``, or on request):
  keys, ``GXSJ`` and delete flag of the whole table are compared with the
  current state in ``raw``; records that differ are read again (file
  ``<table>@<pull>/missed``), records gone from the source are stored as
  operation ``D`` (file ``<table>@<pull>/vanished``).
- **Pull ids** are taken under the dataset's lock, unique and increasing, and
  an attached partition is never dropped: two pulls in one second both stay.

An unreachable database is recorded as an availability failure (ledger status
``unavailable``) and raised, so the task retries and then fails with a message
that says what to check.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql

from mdm.connections import ConnParams, conninfo
from mdm.ingest import gate, ledger, load, raw_tables
from mdm.ingest.errors import DeliveryRejectedError, SourceUnavailableError
from mdm.ingest.files import DeliveryOutcome
from mdm.registry import Dataset
from mdm.settings import TIMEZONE, Settings, load_settings

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10
KEYS_PER_FETCH = 10_000  # reconciliation: records read again per statement
TEXT_TIMESTAMP = "YYYY-MM-DD HH24:MI:SS"  # how raw keeps a timestamp (the standard's form)


@dataclass(frozen=True)
class PullPolicy:
    """How far a pull looks back, how close the mark may come to now, how often to reconcile."""

    overlap: dt.timedelta = dt.timedelta(minutes=10)
    lag: dt.timedelta = dt.timedelta(minutes=5)
    reconcile_every: dt.timedelta | None = dt.timedelta(hours=24)  # None: only on request

    @classmethod
    def from_settings(cls, settings: Settings) -> PullPolicy:
        return cls(
            settings.frontend_overlap,
            settings.frontend_mark_lag,
            settings.frontend_reconcile_every,
        )


def pull_id(now: dt.datetime | None = None) -> str:
    """``pull-YYYYMMDDTHHMMSS`` in Beijing time: sorts in pull order."""
    from zoneinfo import ZoneInfo

    moment = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(TIMEZONE))
    return f"pull-{moment:%Y%m%dT%H%M%S}"


def next_pull_id(candidate: str, last: str | None) -> str:
    """``candidate``, or the id just after ``last`` when the clock gives no later one.

    Raw's current state orders a record's rows by delivery id, so a pull's id must
    sort after every earlier pull's (same second, a clock set back):
    ``pull-…T101500`` < ``pull-…T101500.000001`` < ``pull-…T101501``.
    """
    if last is None or candidate > last:
        return candidate
    stem, _, sequence = last.partition(".")
    return f"{stem}.{(int(sequence) if sequence.isdigit() else 0) + 1:06d}"


def next_mark(
    mark: dt.datetime | None, largest: dt.datetime | None, cap: dt.datetime
) -> dt.datetime | None:
    """The mark after a pull: the largest ``GXSJ`` seen, never past ``cap`` (source now - lag).

    A mark already past the cap (set by a row stamped in the future) comes back to it.
    """
    seen = [m for m in (mark, largest) if m is not None]
    return min(max(seen), cap) if seen else None


def _unique_pull_id(conn: psycopg.Connection, code: str, candidate: str) -> str:
    row = conn.execute(
        "select greatest((select max(delivery_id) from ops.delivery where dataset = %s), "
        "(select max(delivery_id) from ops.delivery_event where dataset = %s))",
        (code, code),
    ).fetchone()
    return next_pull_id(candidate, row[0] if row else None)


def _watermark(
    conn: psycopg.Connection, dataset: str, every: dt.timedelta | None
) -> tuple[dt.datetime | None, bool]:
    """The mark, and whether a reconciliation is due (never done, or ``every`` ago)."""
    row = conn.execute(
        "select high_water_mark, reconciled_at is null or reconciled_at <= now() - %s "
        "from ops.frontend_watermark where dataset = %s",
        (every or dt.timedelta(0), dataset),
    ).fetchone()
    if row is None:
        return None, every is not None
    return row[0], every is not None and bool(row[1])


def _drop_leftover_batches(conn: psycopg.Connection, spec: Dataset) -> None:
    """Batch tables of pulls interrupted before they attached (their ids are never reused)."""
    prefix = raw_tables.partition_name(spec, "pull") + "_"
    for (name,) in conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'raw' and c.relkind = 'r' and not c.relispartition "
        "and left(c.relname, %s) = %s",
        (len(prefix), prefix),
    ).fetchall():
        logger.warning("%s: dropping raw.%s, left by an interrupted pull", spec.code, name)
        conn.execute(sql.SQL("drop table raw.{}").format(sql.Identifier(name)))


def _source_columns(source: psycopg.Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in source.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'public' and table_name = %s order by ordinal_position",
            (table,),
        )
    ]


def _text(column: str, kind: str | None) -> sql.Composable:
    """The source value as the text raw keeps (timestamps in the standard's form)."""
    if kind == "timestamp":
        return sql.SQL("to_char({c}, {f})").format(
            c=sql.Identifier(column), f=sql.Literal(TEXT_TIMESTAMP)
        )
    return sql.SQL("{}::text").format(sql.Identifier(column))


def _keys(spec: Dataset) -> list[str]:
    return [k.lower() for k in spec.record_key]


def _key_exprs(spec: Dataset, alias: str) -> sql.Composable:
    """The record key as raw's current state compares it (``macros/current_records.sql``)."""
    return sql.SQL(", ").join(
        sql.SQL("btrim({}.{})").format(sql.Identifier(alias), sql.Identifier(k))
        for k in _keys(spec)
    )


def _same_key(spec: Dataset, a: str, b: str) -> sql.Composable:
    return sql.SQL(" and ").join(
        sql.SQL("btrim({a}.{k}) = btrim({b}.{k})").format(
            a=sql.Identifier(a), b=sql.Identifier(b), k=sql.Identifier(k)
        )
        for k in _keys(spec)
    )


def _latest_in_raw(spec: Dataset, columns: sql.Composable, where: sql.Composable) -> sql.Composed:
    """Each record's last row in ``raw`` (any operation): the state a pull is compared with."""
    return sql.SQL(
        "select distinct on ({k}) {cols} from raw.{t} as r where {w} "
        "order by {k}, r._delivery_id desc, r._file desc, r._line desc"
    ).format(k=_key_exprs(spec, "r"), cols=columns, t=sql.Identifier(spec.code), w=where)


@dataclass
class _Source:
    """What a pull needs to know about the front-end table, read in its snapshot."""

    table: str
    present: list[str]  # registry columns the table has
    kinds: dict[str, str | None]
    extra: list[str]
    missing: list[str]

    def select(
        self, spec: Dataset, where: sql.Composable, file: str, first_line: int = 1
    ) -> sql.Composed:
        order = sql.SQL(", ").join(map(sql.Identifier, ["gxsj", *_keys(spec)]))
        return sql.SQL(
            "copy (select {cols}, {file} as _file, "
            "(row_number() over (order by {order}) + {offset})::int as _line, "
            "case when scbz = '1' then 'D' else 'U' end as _operation "
            "from public.{t} where {w} order by {order}) to stdout"
        ).format(
            cols=sql.SQL(", ").join(_text(c, self.kinds.get(c)) for c in self.present),
            file=sql.Literal(file),
            order=order,
            offset=sql.Literal(first_line - 1),
            t=sql.Identifier(self.table),
            w=where,
        )


def _copy(
    source: psycopg.Connection,
    conn: psycopg.Connection,
    select: sql.Composed,
    target: sql.Composable,
    columns: list[str],
) -> None:
    into_statement = sql.SQL("copy {} ({}) from stdin").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with source.cursor().copy(select) as out, conn.cursor().copy(into_statement) as into:
        for chunk in out:
            into.write(chunk)


def pull_frontend(
    warehouse: ConnParams,
    frontend: ConnParams,
    spec: Dataset,
    run_id: str,
    now: dt.datetime | None = None,
    *,
    reconcile: bool | None = None,
    policy: PullPolicy | None = None,
) -> DeliveryOutcome | None:
    """Pull new and changed rows of ``spec``; None if there is nothing to store.

    ``reconcile``: compare the whole table with raw (None: when the policy says it is due).
    ``policy`` defaults to the settings (``MDM_FRONTEND_*``).
    """
    policy = policy or PullPolicy.from_settings(load_settings())
    code, table = spec.code, spec.table or spec.code
    with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (ledger.lock_key(code),))
        try:
            raw_tables.ensure_raw_table(conn, spec)
            _drop_leftover_batches(conn, spec)
            # Under the lock: a concurrent pull cannot take the same id and replace this
            # pull's partition.
            delivery_id = _unique_pull_id(conn, code, pull_id(now))
            mark, due = _watermark(conn, code, policy.reconcile_every)
            try:
                source = psycopg.connect(
                    conninfo(frontend), connect_timeout=CONNECT_TIMEOUT_SECONDS
                )
            except psycopg.OperationalError as err:
                message = (
                    f"{code}: front-end database {frontend.get('host')}:{frontend.get('port')}/"
                    f"{frontend.get('dbname')} refused the connection: {str(err).strip()}. "
                    "To do: check the Airflow connection 'frontend_db' (host, password) and ask "
                    "the department whether its server is up; the watermark is unchanged"
                )
                with conn.transaction():
                    ledger.record(
                        conn,
                        code,
                        delivery_id,
                        channel="frontend_db",
                        mode="pull",
                        status="unavailable",
                        error_code="source_unavailable",
                        error=message,
                        run_id=run_id,
                        started_at=ledger.now(conn),
                        finished_at=ledger.now(conn),
                    )
                    ledger.event(conn, code, delivery_id, "unavailable", run_id, error=message)
                logger.error("%s", message)
                raise SourceUnavailableError(message) from err
            with source:
                return _pull(
                    conn,
                    source,
                    warehouse,
                    spec,
                    table,
                    delivery_id,
                    mark,
                    run_id,
                    policy,
                    due if reconcile is None else reconcile,
                )
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (ledger.lock_key(code),))


def _pull(
    conn: psycopg.Connection,
    source: psycopg.Connection,
    warehouse: ConnParams,
    spec: Dataset,
    table: str,
    delivery_id: str,
    mark: dt.datetime | None,
    run_id: str,
    policy: PullPolicy,
    reconcile: bool,
) -> DeliveryOutcome | None:
    code = spec.code
    started_at = ledger.now(conn)
    source.execute("set transaction isolation level repeatable read, read only")
    # The source's own clock (GXSJ is Beijing time without a zone), at the snapshot.
    clock = source.execute("select (now() at time zone %s)::timestamp", (TIMEZONE,)).fetchone()
    if clock is None:
        raise RuntimeError(f"{code}: the front-end database returned no clock")
    source_now: dt.datetime = clock[0]
    columns = _source_columns(source, table)
    if not columns and not any(
        e.status in ledger.LOADED for e in ledger.entries(conn, code).values()
    ):
        # A department that has not set its table up yet: nothing to pull, not a fault of a
        # pull (once rows were pulled, a table gone is one: rejected below).
        message = (
            f"{code}: the front-end table public.{table} does not exist (yet): nothing pulled. "
            f"To do: ask {spec.department} to create it as the interface standard describes"
        )
        ledger.event(conn, code, delivery_id, "no_source_table", run_id, warning=message)
        logger.warning("%s", message)
        return None
    expected = [c.name.lower() for c in spec.columns]
    src = _Source(
        table,
        [c for c in expected if c in columns],
        {c.name.lower(): c.sql_type for c in spec.columns},
        [c for c in columns if c not in expected],
        [c for c in expected if c not in columns],
    )
    if not columns:  # pulled before, gone now
        return _reject(
            conn,
            spec,
            delivery_id,
            run_id,
            DeliveryRejectedError(
                "source_table_missing",
                f"the front-end table public.{table} does not exist any more",
                table,
                action=f"ask {spec.department} to restore the table (its rows were pulled "
                "before); the watermark is unchanged",
            ),
            0,
            src,
            started_at,
        )
    window = (
        sql.SQL("(gxsj > {} or gxsj is null)").format(sql.Literal(mark - policy.overlap))
        if mark
        else sql.SQL("true")
    )
    stats = source.execute(
        sql.SQL("select count(*), max(gxsj) from public.{} where {}").format(
            sql.Identifier(table), window
        )
    ).fetchone()
    read, largest = (int(stats[0]), stats[1]) if stats else (0, None)
    new_mark = next_mark(mark, largest, source_now - policy.lag)
    if read == 0 and not reconcile:
        _move_mark(conn, code, mark, new_mark, reconciled=False)
        _empty_pull(conn, source, spec, table, delivery_id, run_id)
        logger.info("%s: nothing new above %s", code, mark)
        return None

    def reject(err: DeliveryRejectedError, declared: int) -> DeliveryOutcome:
        return _reject(conn, spec, delivery_id, run_id, err, declared, src, started_at)

    required_missing = [
        c.name for c in spec.columns if c.required and c.name.lower() in src.missing
    ]
    if required_missing:
        return reject(
            DeliveryRejectedError(
                "missing_required_column",
                f"the front-end table {table} has no column(s) {required_missing}",
                table,
                action="ask the department to restore the columns of the interface standard",
            ),
            read,
        )
    file = f"{table}@{delivery_id}"
    batch = raw_tables.create_batch_table(conn, spec, delivery_id)
    lineage = ["_file", "_line", "_operation"]
    _copy(source, conn, src.select(spec, window, file), batch, [*src.present, *lineage])
    copied = load.rows_in(conn, spec, delivery_id)
    if copied != read:
        return reject(
            DeliveryRejectedError(
                "row_count_mismatch", f"pulled {copied} rows, the source counted {read}", table
            ),
            read,
        )
    compared = missed = vanished = 0
    if reconcile:
        compared, missed, vanished = _reconcile(
            conn, source, spec, src, batch, delivery_id, whole_table=mark is None
        )
    source.rollback()
    unchanged = _drop_unchanged(conn, spec, batch)
    counts = conn.execute(
        sql.SQL(
            "select count(*), count(*) filter (where gxsj is null and _file not like {v}), "
            "count(*) filter (where gxsj > {now} and _file not like {v}) from {b}"
        ).format(
            v=sql.Literal("%/vanished"),
            now=sql.Literal(f"{source_now:%Y-%m-%d %H:%M:%S}"),
            b=batch,
        )
    ).fetchone()
    stored, null_gxsj, future = (int(c) for c in counts) if counts else (0, 0, 0)
    reconciliation = {
        "keys_compared": compared,
        "missed": missed,
        "vanished": vanished,
    }
    if stored == 0:
        raw_tables.drop_batch_table(conn, spec, delivery_id)
        with conn.transaction():
            _move_mark(conn, code, mark, new_mark, reconciled=reconcile)
            if reconcile:
                ledger.event(
                    conn, code, delivery_id, "reconciled", run_id, **reconciliation, stored=0
                )
            _empty_pull(conn, source, spec, table, delivery_id, run_id)
        logger.info(
            "%s: nothing new above %s (%d rows read again, unchanged)%s",
            code,
            mark,
            unchanged,
            f"; reconciled {compared} records, all in raw" if reconcile else "",
        )
        return None

    warning = _warning(null_gxsj, future, source_now, new_mark)
    # the days the stored rows changed on (the scorecard's timeliness of a front-end table)
    changed_on = [
        str(day)
        for (day,) in conn.execute(
            sql.SQL(
                "select distinct gxsj::date from {} where gxsj is not null and _file not like {} "
                "order by 1"
            ).format(batch, sql.Literal("%/vanished"))
        )
    ]
    ledger.record(
        conn,
        code,
        delivery_id,
        channel="frontend_db",
        mode="pull",
        status="loading",
        rows_declared=stored,
        rows_unchanged=unchanged,
        run_id=run_id,
        started_at=started_at,
        attempts=1,
        extra_columns=src.extra,
        missing_columns=src.missing,
    )
    result = gate.validate(
        warehouse, spec, "pull", "raw", raw_tables.partition_name(spec, delivery_id), None
    )
    if not result.success:
        with conn.transaction():
            gate.store(conn, code, delivery_id, result)
        return reject(
            DeliveryRejectedError(
                "gate_failed",
                f"failed the Great Expectations gate: {result.summary()}",
                action="check the front-end table with the department; the next pull retries "
                "the same rows",
            ),
            stored,
        )
    raw_tables.analyze_batch_table(conn, spec, delivery_id)
    with conn.transaction():
        raw_tables.attach_batch_table(conn, spec, delivery_id)
        gate.store(conn, code, delivery_id, result)
        conn.execute(
            """insert into ops.frontend_watermark
                   (dataset, high_water_mark, delivery_id, updated_at, reconciled_at)
               values (%(code)s, %(mark)s, %(id)s, now(), case when %(rec)s then now() end)
               on conflict (dataset) do update set high_water_mark = excluded.high_water_mark,
                   delivery_id = excluded.delivery_id, updated_at = excluded.updated_at,
                   reconciled_at = coalesce(excluded.reconciled_at,
                                            ops.frontend_watermark.reconciled_at)""",
            {"code": code, "mark": new_mark, "id": delivery_id, "rec": reconcile},
        )
        ledger.record(
            conn,
            code,
            delivery_id,
            status="loaded",
            rows_loaded=stored,
            rows_quarantined=0,
            rows_null_gxsj=null_gxsj,
            rows_future_gxsj=future,
            rows_vanished=vanished,
            reconciled=reconcile,
            warning=warning,
            high_water_mark=new_mark,
            finished_at=ledger.now(conn),
        )
        ledger.event(
            conn,
            code,
            delivery_id,
            "loaded",
            run_id,
            rows_loaded=stored,
            rows_unchanged=unchanged,
            high_water_mark=str(new_mark),
            changed_on=changed_on,
        )
        if reconcile:
            ledger.event(conn, code, delivery_id, "reconciled", run_id, **reconciliation)
        if warning:
            ledger.event(
                conn,
                code,
                delivery_id,
                "warning",
                run_id,
                warning=warning,
                rows_null_gxsj=null_gxsj,
                rows_future_gxsj=future,
                source_now=str(source_now),
            )
    if warning:
        logger.warning("%s/%s: %s", code, delivery_id, warning)
    logger.info(
        "%s/%s: %d rows stored (%d read again unchanged), mark %s%s",
        code,
        delivery_id,
        stored,
        unchanged,
        new_mark,
        f"; reconciled: {missed} missed, {vanished} vanished" if reconcile else "",
    )
    return DeliveryOutcome(
        code,
        delivery_id,
        "loaded",
        stored,
        stored,
        0,
        extra_columns=src.extra,
        missing_columns=src.missing,
    )


def _empty_pull(
    conn: psycopg.Connection,
    source: psycopg.Connection,
    spec: Dataset,
    table: str,
    delivery_id: str,
    run_id: str,
) -> None:
    """A pull that found nothing new, recorded with the source's newest GXSJ: a table that
    has not changed for two cycles counts against the source's timeliness (issue 21)."""
    row = source.execute(
        sql.SQL("select max(gxsj) from public.{}").format(sql.Identifier(table))
    ).fetchone()
    newest = row[0] if row else None
    ledger.event(
        conn,
        spec.code,
        delivery_id,
        "empty_pull",
        run_id,
        source_newest_gxsj=str(newest) if newest is not None else None,
    )


def _move_mark(
    conn: psycopg.Connection,
    code: str,
    mark: dt.datetime | None,
    new_mark: dt.datetime | None,
    *,
    reconciled: bool,
) -> None:
    """A pull that stores nothing still records a reconciliation and a mark brought back
    under the source's clock."""
    if new_mark != mark or reconciled:
        conn.execute(
            "update ops.frontend_watermark set high_water_mark = %s, updated_at = now(), "
            "reconciled_at = case when %s then now() else reconciled_at end where dataset = %s",
            (new_mark, reconciled, code),
        )


def _reconcile(
    conn: psycopg.Connection,
    source: psycopg.Connection,
    spec: Dataset,
    src: _Source,
    batch: sql.Composed,
    delivery_id: str,
    whole_table: bool,
) -> tuple[int, int, int]:
    """Compare keys, ``GXSJ`` and delete flag of the whole source table with raw's state.

    Adds to the batch the records whose ``GXSJ`` or delete flag differ from their last
    row in raw (and are not in the batch already), and a ``D`` row (with the last values
    raw has) for each record live in raw but gone from the source. ``whole_table``: the
    batch already holds every source row (a first pull), so only the deletes are left to
    find. Returns (records compared, missed, vanished).
    """
    keys = _keys(spec)
    listed = sql.Identifier("reconcile_source")
    differing: list[tuple[str, ...]] = []
    source_keys: sql.Composed
    if whole_table:
        source_keys = batch
    else:
        source_keys = sql.SQL("pg_temp.{}").format(listed)
        differing = _differing(conn, source, spec, src, batch, source_keys)
    counted = conn.execute(sql.SQL("select count(*) from {}").format(source_keys)).fetchone()
    compared = int(counted[0]) if counted else 0
    file = f"{src.table}@{delivery_id}/missed"
    for done in range(0, len(differing), KEYS_PER_FETCH):
        chunk = differing[done : done + KEYS_PER_FETCH]
        where = sql.SQL("({}) in (select * from unnest({}))").format(
            sql.SQL(", ").join(_text(k, None) for k in keys),
            sql.SQL(", ").join(
                sql.SQL("{}::text[]").format(sql.Literal(list(values)))
                for values in zip(*chunk, strict=True)
            ),
        )
        # Same snapshot as the comparison: each listed key is one row of the source.
        _copy(
            source,
            conn,
            src.select(spec, where, file, first_line=done + 1),
            batch,
            [*src.present, "_file", "_line", "_operation"],
        )
    data = raw_tables.data_columns(spec)
    vanished = conn.execute(
        sql.SQL(
            "insert into {b} ({cols}, _file, _line, _operation) "
            "select {cols}, {file}, (row_number() over (order by {lk}))::int, 'D' "
            "from ({latest}) as l where l._operation <> 'D' "
            "and not exists (select 1 from {s} as s where {sl})"
        ).format(
            b=batch,
            cols=sql.SQL(", ").join(map(sql.Identifier, data)),
            file=sql.Literal(f"{src.table}@{delivery_id}/vanished"),
            lk=_key_exprs(spec, "l"),
            latest=_latest_in_raw(
                spec,
                sql.SQL(", ").join(
                    sql.SQL("r.{}").format(sql.Identifier(c)) for c in [*data, "_operation"]
                ),
                sql.SQL("true"),
            ),
            s=source_keys,
            sl=_same_key(spec, "s", "l"),
        )
    ).rowcount
    conn.execute(sql.SQL("drop table if exists pg_temp.{}").format(listed))
    logger.info(
        "%s: reconciled %d source records: %d differ from raw, %d vanished",
        spec.code,
        compared,
        len(differing),
        vanished,
    )
    return compared, len(differing), vanished


def _differing(
    conn: psycopg.Connection,
    source: psycopg.Connection,
    spec: Dataset,
    src: _Source,
    batch: sql.Composed,
    source_keys: sql.Composed,
) -> list[tuple[str, ...]]:
    """Copy keys, ``GXSJ`` and delete flag of every source row into ``source_keys``; return
    the keys whose ``GXSJ`` or delete flag differ from raw's last row (not in the batch)."""
    keys = _keys(spec)
    conn.execute(sql.SQL("drop table if exists {}").format(source_keys))
    conn.execute(
        sql.SQL("create temp table {} ({}, gxsj text, _operation text)").format(
            source_keys,
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(k)) for k in keys),
        )
    )
    _copy(
        source,
        conn,
        sql.SQL(
            "copy (select {keys}, {gxsj}, case when scbz = '1' then 'D' else 'U' end "
            "from public.{t}) to stdout"
        ).format(
            keys=sql.SQL(", ").join(_text(k, None) for k in keys),
            gxsj=_text("gxsj", src.kinds.get("gxsj")),
            t=sql.Identifier(src.table),
        ),
        source_keys,
        [*keys, "gxsj", "_operation"],
    )
    conn.execute(sql.SQL("analyze {}").format(source_keys))
    latest = _latest_in_raw(
        spec,
        sql.SQL(", ").join(
            sql.SQL("r.{}").format(sql.Identifier(c)) for c in [*keys, "gxsj", "_operation"]
        ),
        sql.SQL("true"),
    )
    return conn.execute(
        sql.SQL(
            "select {sk} from {s} as s left join ({latest}) as l on {sl} "
            "where (s.gxsj, s._operation) is distinct from (l.gxsj, l._operation) "
            "and not exists (select 1 from {b} as b where {sb}) order by {sk}"
        ).format(
            sk=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(k)) for k in keys),
            s=source_keys,
            latest=latest,
            sl=_same_key(spec, "s", "l"),
            b=batch,
            sb=_same_key(spec, "s", "b"),
        )
    ).fetchall()


def _drop_unchanged(conn: psycopg.Connection, spec: Dataset, batch: sql.Composable) -> int:
    """Delete the batch rows equal (values and operation) to their record's last row in raw.

    The overlap window and the null-``GXSJ`` rows are read by every pull: stored
    again they would only repeat what raw already says.
    """
    compared = [*raw_tables.data_columns(spec), "_operation"]
    row_of = {
        alias: sql.SQL("row({})").format(
            sql.SQL(", ").join(
                sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c)) for c in compared
            )
        )
        for alias in ("b", "l")
    }
    latest = _latest_in_raw(
        spec,
        sql.SQL("r.*"),
        sql.SQL("({}) in (select {} from {} as b)").format(
            _key_exprs(spec, "r"), _key_exprs(spec, "b"), batch
        ),
    )
    return conn.execute(
        sql.SQL(
            "delete from {b} as b using ({latest}) as l "
            "where {same} and {rb} is not distinct from {rl}"
        ).format(
            b=batch,
            latest=latest,
            same=_same_key(spec, "b", "l"),
            rb=row_of["b"],
            rl=row_of["l"],
        )
    ).rowcount


def _warning(
    null_gxsj: int, future: int, source_now: dt.datetime, mark: dt.datetime | None
) -> str | None:
    parts = []
    if future:
        parts.append(
            f"{future} row(s) stamped after the source database's clock "
            f"({source_now:%Y-%m-%d %H:%M:%S}): stored, but the mark stays at {mark} so "
            "rows stamped after them are still pulled; to do: ask the department to check "
            "its application servers' clocks"
        )
    if null_gxsj:
        parts.append(
            f"{null_gxsj} row(s) without GXSJ: stored; every pull reads them again and "
            "stores them only when they change; to do: ask the department to fill GXSJ"
        )
    return "; ".join(parts) or None


def _reject(
    conn: psycopg.Connection,
    spec: Dataset,
    delivery_id: str,
    run_id: str,
    err: DeliveryRejectedError,
    declared: int,
    src: _Source,
    started_at: object,
) -> DeliveryOutcome:
    code = spec.code
    raw_tables.drop_batch_table(conn, spec, delivery_id)
    message = err.describe(code, delivery_id)
    with conn.transaction():
        ledger.record(
            conn,
            code,
            delivery_id,
            channel="frontend_db",
            mode="pull",
            status="rejected",
            error_code=err.code,
            error=message,
            rows_declared=declared,
            rows_loaded=0,
            rows_quarantined=0,
            extra_columns=src.extra,
            missing_columns=src.missing,
            run_id=run_id,
            attempts=1,
            started_at=started_at,
            finished_at=ledger.now(conn),
        )
        ledger.event(conn, code, delivery_id, "rejected", run_id, code=err.code, error=message)
    logger.error("pull rejected: %s", message)
    return DeliveryOutcome(
        code, delivery_id, "rejected", declared, error_code=err.code, error=message
    )
