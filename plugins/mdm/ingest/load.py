"""Writing a checked batch into ``raw``: COPY into a detached table, gate, attach.

Shared by file drops and front-end pulls. The attach, the quarantined rows and
the ledger update commit together, so a delivery is either in ``raw`` with its
quarantine and ledger row, or not at all.
"""

from __future__ import annotations

import io
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
    if table.num_rows == 0:
        return 0
    columns = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(target, columns)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in table.to_batches(max_chunksize=COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
            copy.write(buffer.getbuffer())
    return table.num_rows


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
