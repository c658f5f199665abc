"""Writing a checked batch into ``raw``: COPY into a detached table, gate, attach.

Shared by file drops and front-end pulls. The attach, the quarantined rows and
the ledger update commit together, so a delivery is either in ``raw`` with its
quarantine and ledger row, or not at all.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterable

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from mdm.ingest import raw_tables
from mdm.ingest.parse import QuarantinedRow
from mdm.registry import Dataset

logger = logging.getLogger(__name__)

COPY_BATCH_ROWS = 200_000


def copy_table(conn: psycopg.Connection, target: sql.Composable, table: pa.Table) -> int:
    """COPY an Arrow table of text columns into ``target`` (columns by name)."""
    return copy_batches(conn, target, [table])


def copy_batches(
    conn: psycopg.Connection, target: sql.Composable, batches: Iterable[pa.Table]
) -> int:
    """COPY Arrow tables of text columns (the same columns) into ``target``, in one COPY,
    batch by batch: PostgreSQL parses one batch while the next is read."""
    tables = (t for t in batches if t.num_rows)
    first = next(tables, None)
    if first is None:
        return 0
    columns = sql.SQL(", ").join(map(sql.Identifier, first.column_names))
    statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(target, columns)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    rows = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for table in itertools.chain([first], tables):
            for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
                copy.write(buffer.getbuffer())
            rows += table.num_rows
    return rows


class CopyAsDelivered:
    """COPY a clean CSV file's own bytes (its UTF-8 spool) into a batch table, in a thread,
    while it is parsed.

    Speculative: PostgreSQL parses the file on its core while Python checks it
    on the other. The COPY runs in a transaction that stays open until the
    checks decide: :meth:`finish` commits it (nothing to quarantine, no extra
    column), :meth:`abandon` rolls it back and the parsed rows are COPYed
    instead. Only for full deliveries (a delta's operation comes from each row).
    """

    def __init__(self, dsn: str, target: sql.Composable, path: str, header: list[str]) -> None:
        import threading

        self._stop = threading.Event()
        self._decided = threading.Event()
        self._keep = False
        self._expected = -1
        self._error: BaseException | None = None
        self.rows = 0
        self._thread = threading.Thread(
            target=self._run, args=(dsn, target, path, header), daemon=True
        )
        self._thread.start()

    def _run(self, dsn: str, target: sql.Composable, path: str, header: list[str]) -> None:
        columns = sql.SQL(", ").join(map(sql.Identifier, header))
        statement = sql.SQL(
            "copy {} ({}) from stdin (format csv, header true, force_null ({}), encoding 'UTF8')"
        ).format(target, columns, columns)
        try:
            with psycopg.connect(dsn) as conn:
                with conn.cursor() as cur:
                    with cur.copy(statement) as copy, open(path, "rb") as handle:
                        chunk = handle.read(1 << 20)
                        while chunk and not self._stop.is_set():
                            copy.write(chunk)
                            chunk = handle.read(1 << 20)
                        if self._stop.is_set():
                            raise _Abandoned
                    self.rows = cur.rowcount
                self._decided.wait()
                if self._keep and self.rows == self._expected:
                    conn.commit()
                else:
                    conn.rollback()
        except _Abandoned:
            pass
        except BaseException as err:  # reported by finish()
            self._error = err

    def finish(self, expected_rows: int) -> bool:
        """Keep the COPY if it took ``expected_rows`` rows (the checks' count); else roll back."""
        self._expected = expected_rows
        self._keep = True
        self._decided.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self.rows != expected_rows:
            logger.warning(
                "COPY as delivered took %d rows, the checks %d: rows COPYed from the parse instead",
                self.rows,
                expected_rows,
            )
        return self.rows == expected_rows

    def abandon(self) -> None:
        """Stop or roll back the COPY: it leaves no row."""
        self._stop.set()
        self._decided.set()
        self._thread.join()


class _Abandoned(Exception):
    pass


def store_quarantine(
    conn: psycopg.Connection,
    dataset: str,
    delivery_id: str,
    rows: Iterable[QuarantinedRow],
    run_id: str,
) -> int:
    """Replace the quarantined rows of a delivery."""
    conn.execute(
        "delete from quarantine.delivery_row where dataset = %s and delivery_id = %s",
        (dataset, delivery_id),
    )
    count = 0
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy quarantine.delivery_row (dataset, delivery_id, file, line, reason_code, "
            "reason, raw_text, run_id) from stdin"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(
                (
                    dataset,
                    delivery_id,
                    row.file,
                    row.line,
                    row.reason_code,
                    row.reason,
                    row.raw_text,
                    run_id,
                )
            )
            count += 1
    return count


def rows_in(conn: psycopg.Connection, spec: Dataset, delivery_id: str) -> int:
    row = conn.execute(
        sql.SQL("select count(*) from raw.{}").format(
            sql.Identifier(raw_tables.partition_name(spec, delivery_id))
        )
    ).fetchone()
    return int(row[0]) if row else 0
