"""Helpers for ingestion tests: reset the ingestion state, ingest everything, fingerprint."""

from __future__ import annotations

from pathlib import Path

import psycopg

from mdm.connections import params_from_url
from mdm.ingest.files import IngestReport, ingest_file_drops
from mdm.registry import datasets

INGEST_TABLES = (
    "ops.delivery",
    "ops.delivery_event",
    "ops.frontend_watermark",
    "ops.validation_result",
    "quarantine.delivery_row",
)


def reset_ingestion(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("drop schema if exists raw cascade")
        conn.execute("create schema raw")
        conn.execute(f"truncate {', '.join(INGEST_TABLES)}")


def ingest_all_files(warehouse_url: str, landing: Path, run_id: str) -> list[IngestReport]:
    return [
        ingest_file_drops(params_from_url(warehouse_url), landing, spec, run_id)
        for spec in datasets().values()
        if spec.channel == "file"
    ]


def state_fingerprint(warehouse_url: str) -> dict[str, object]:
    """Everything ingestion decides, without run ids and clocks: equal states compare equal."""
    with psycopg.connect(warehouse_url) as conn:
        state: dict[str, object] = {}
        for (code,) in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'raw' and c.relkind = 'p' order by 1"
        ).fetchall():
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'raw' and table_name = %s "
                    "order by ordinal_position",
                    (code,),
                )
            ]
            row_text = " || '|' || ".join(f"coalesce({c}::text, '~')" for c in columns)
            state[f"raw.{code}"] = conn.execute(
                f"select count(*), md5(coalesce(string_agg({row_text}, E'\\n' "
                f"order by _delivery_id, _file, _line), '')) from raw.{code}"
            ).fetchone()
        state["ledger"] = conn.execute(
            "select dataset, delivery_id, status, rows_declared, rows_loaded, rows_quarantined, "
            "error_code, extra_columns, out_of_order from ops.delivery "
            "where status <> 'unavailable' order by 1, 2"
        ).fetchall()
        state["quarantine"] = conn.execute(
            "select dataset, delivery_id, file, line, reason_code, raw_text "
            "from quarantine.delivery_row order by 1, 2, 3, 4"
        ).fetchall()
        state["watermarks"] = conn.execute(
            "select dataset, high_water_mark from ops.frontend_watermark order by 1"
        ).fetchall()
        state["detached_batch_tables"] = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'raw' and c.relkind = 'r' and not c.relispartition"
        ).fetchall()
    return state
