"""Front-end database: incremental pulls by the ``GXSJ`` high-water mark.

A pull copies the rows with ``GXSJ`` above the mark (all rows the first time)
from the department's table into a batch table, gates it like a file
delivery, and attaches it to ``raw.<dataset>`` in the transaction that
advances the mark and writes the ledger. ``SCBZ = '1'`` rows arrive as
operation ``D``. An unreachable database is recorded as an availability
failure (ledger status ``unavailable``) and raised, so the task retries and
then fails with a message that says what to check.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg
from psycopg import sql

from mdm.connections import ConnParams, conninfo
from mdm.ingest import gate, ledger, load, raw_tables
from mdm.ingest.errors import DeliveryRejectedError, SourceUnavailableError
from mdm.ingest.files import DeliveryOutcome
from mdm.registry import Dataset
from mdm.settings import TIMEZONE

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10


def pull_id(now: dt.datetime | None = None) -> str:
    """``pull-YYYYMMDDTHHMMSS`` in Beijing time: sorts in pull order."""
    from zoneinfo import ZoneInfo

    moment = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(TIMEZONE))
    return f"pull-{moment:%Y%m%dT%H%M%S}"


def _watermark(conn: psycopg.Connection, dataset: str) -> dt.datetime | None:
    row = conn.execute(
        "select high_water_mark from ops.frontend_watermark where dataset = %s", (dataset,)
    ).fetchone()
    return row[0] if row else None


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
        return sql.SQL("to_char({c}, 'YYYY-MM-DD HH24:MI:SS')").format(c=sql.Identifier(column))
    return sql.SQL("{}::text").format(sql.Identifier(column))


def pull_frontend(
    warehouse: ConnParams,
    frontend: ConnParams,
    spec: Dataset,
    run_id: str,
    now: dt.datetime | None = None,
) -> DeliveryOutcome | None:
    """Pull new and changed rows of ``spec`` from the front-end database; None if none."""
    code, table = spec.code, spec.table or spec.code
    delivery_id = pull_id(now)
    with psycopg.connect(conninfo(warehouse), autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (f"mdm.ingest.{code}",))
        try:
            raw_tables.ensure_raw_table(conn, spec)
            mark = _watermark(conn, code)
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
                return _pull(conn, source, warehouse, spec, table, delivery_id, mark, run_id)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (f"mdm.ingest.{code}",))


def _pull(
    conn: psycopg.Connection,
    source: psycopg.Connection,
    warehouse: ConnParams,
    spec: Dataset,
    table: str,
    delivery_id: str,
    mark: dt.datetime | None,
    run_id: str,
) -> DeliveryOutcome | None:
    code = spec.code
    source.execute("set transaction isolation level repeatable read, read only")
    columns = _source_columns(source, table)
    expected = [c.name.lower() for c in spec.columns]
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    where = sql.SQL("gxsj > {}").format(sql.Literal(mark)) if mark else sql.SQL("true")
    count_row = source.execute(
        sql.SQL("select count(*), max(gxsj) from public.{} where {}").format(
            sql.Identifier(table), where
        )
    ).fetchone()
    declared, new_mark = (int(count_row[0]), count_row[1]) if count_row else (0, None)
    if declared == 0:
        logger.info("%s: nothing new above %s", code, mark)
        return None
    ledger.record(
        conn,
        code,
        delivery_id,
        channel="frontend_db",
        mode="pull",
        status="loading",
        rows_declared=declared,
        run_id=run_id,
        started_at=ledger.now(conn),
        attempts=1,
        extra_columns=extra,
        missing_columns=missing,
    )
    try:
        required_missing = [
            c.name for c in spec.columns if c.required and c.name.lower() in missing
        ]
        if required_missing:
            raise DeliveryRejectedError(
                "missing_required_column",
                f"the front-end table {table} has no column(s) {required_missing}",
                table,
                action="ask the department to restore the columns of the interface standard",
            )
        kinds = {c.name.lower(): c.sql_type for c in spec.columns}
        present = [c for c in expected if c in columns]
        select = sql.SQL(
            "copy (select {cols}, {file} as _file, "
            "row_number() over (order by gxsj, djxh)::int as _line, "
            "case when scbz = '1' then 'D' else 'U' end as _operation "
            "from public.{t} where {w} and gxsj <= {m} order by gxsj, djxh) to stdout"
        ).format(
            cols=sql.SQL(", ").join(_text(c, kinds.get(c)) for c in present),
            file=sql.Literal(f"{table}@{delivery_id}"),
            t=sql.Identifier(table),
            w=where,
            m=sql.Literal(new_mark),
        )
        batch = raw_tables.create_batch_table(conn, spec, delivery_id)
        target = sql.SQL("copy {} ({}) from stdin").format(
            batch,
            sql.SQL(", ").join(map(sql.Identifier, [*present, "_file", "_line", "_operation"])),
        )
        with source.cursor().copy(select) as out, conn.cursor().copy(target) as into:
            for chunk in out:
                into.write(chunk)
        source.rollback()
        loaded = load.rows_in(conn, spec, delivery_id)
        if loaded != declared:
            raise DeliveryRejectedError(
                "row_count_mismatch", f"pulled {loaded} rows, the source counted {declared}", table
            )
        result = gate.validate(
            warehouse, spec, "pull", "raw", raw_tables.partition_name(spec, delivery_id), None
        )
        if not result.success:
            with conn.transaction():
                gate.store(conn, code, delivery_id, result)
            raise DeliveryRejectedError(
                "gate_failed",
                f"failed the Great Expectations gate: {result.summary()}",
                action="check the front-end table with the department; the next pull retries "
                "the same rows",
            )
    except DeliveryRejectedError as err:
        raw_tables.drop_batch_table(conn, spec, delivery_id)
        message = err.describe(code, delivery_id)
        with conn.transaction():
            ledger.record(
                conn,
                code,
                delivery_id,
                status="rejected",
                error_code=err.code,
                error=message,
                rows_loaded=0,
                rows_quarantined=0,
                finished_at=ledger.now(conn),
            )
            ledger.event(conn, code, delivery_id, "rejected", run_id, code=err.code, error=message)
        logger.error("pull rejected: %s", message)
        return DeliveryOutcome(
            code, delivery_id, "rejected", declared, error_code=err.code, error=message
        )
    raw_tables.analyze_batch_table(conn, spec, delivery_id)
    with conn.transaction():
        raw_tables.attach_batch_table(conn, spec, delivery_id)
        gate.store(conn, code, delivery_id, result)
        conn.execute(
            """insert into ops.frontend_watermark
                   (dataset, high_water_mark, delivery_id, updated_at)
               values (%s, %s, %s, now())
               on conflict (dataset) do update set high_water_mark = excluded.high_water_mark,
                   delivery_id = excluded.delivery_id, updated_at = excluded.updated_at""",
            (code, new_mark, delivery_id),
        )
        ledger.record(
            conn,
            code,
            delivery_id,
            status="loaded",
            rows_loaded=loaded,
            rows_quarantined=0,
            high_water_mark=new_mark,
            finished_at=ledger.now(conn),
        )
        ledger.event(
            conn,
            code,
            delivery_id,
            "loaded",
            run_id,
            rows_loaded=loaded,
            high_water_mark=str(new_mark),
        )
    logger.info("%s/%s: %d rows pulled up to GXSJ %s", code, delivery_id, loaded, new_mark)
    return DeliveryOutcome(
        code,
        delivery_id,
        "loaded",
        declared,
        loaded,
        0,
        extra_columns=extra,
        missing_columns=missing,
    )
