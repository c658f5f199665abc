"""Helpers for ingestion tests: reset the ingestion state, ingest everything, fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg

from mdm.connections import params_from_url
from mdm.ingest.files import IngestReport, ingest_file_drops
from mdm.registry import dataset, datasets

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
        # the correction requests are about delivered values (issue 21): none without them
        conn.execute("truncate correction.request_event, correction.request")
        conn.execute("alter sequence correction.request_number restart")


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


def build_world(  # type: ignore[no-untyped-def]
    settings,
    warehouse_url: str,
    folder: Path,
    persons: int,
    seed: int,
    defects: bool = False,
    rates=None,
    days: int = 3,
    outbox: Path | None = None,
):
    """Generate, ingest everything, resolve and build the repositories; return the summary.
    ``outbox``: the platform's correction requests the generator answers (``jcfk``)."""
    from mdm import build, db
    from mdm.ingest.frontend import pull_frontend
    from mdm.registry import dataset
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    reset_world(settings, warehouse_url)
    config = GenerateConfig(
        persons=persons, orgs=persons // 10, days=days, seed=seed, defects=defects, outbox=outbox
    )
    if rates is not None:
        config.rates = rates
    summary = generate(config)
    write_all(summary, folder / "landing", folder / "truth")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    warehouse = params_from_url(warehouse_url)
    ingest_all_files(warehouse_url, folder / "landing", "world")
    for code in summary.frontend_rows:  # the front-end tables the generator writes
        pull_frontend(warehouse, params_from_url(db.frontend_url(settings)), dataset(code), "w")
    build.build_observations(settings, warehouse, "world")
    resolved = build.resolve_entities(warehouse, "world")
    build.build_repositories(settings, warehouse, "world")
    build.refresh_access(settings, warehouse, "world")
    return summary, resolved


def resolve_day(  # type: ignore[no-untyped-def]
    settings,
    warehouse_url: str,
    folder: Path,
    persons: int,
    seed: int,
    days: int,
    outbox: Path | None = None,
):
    """Deliver day ``days`` of a generated world (the landing zone keeps earlier days), ingest
    what is new, build the observations and resolve: the daily run up to resolution.
    ``outbox``: the platform's correction requests the generator answers (``jcfk``)."""
    from mdm import build, db
    from mdm.ingest.frontend import pull_frontend
    from mdm.registry import dataset
    from mdm_tools.generate import GenerateConfig, generate, write_all, write_frontend

    summary = generate(
        GenerateConfig(persons=persons, orgs=persons // 10, days=days, seed=seed, outbox=outbox)
    )
    write_all(summary, folder / "landing", folder / f"truth-{days}")
    write_frontend(db.frontend_url(settings), summary.frontend_rows)
    warehouse = params_from_url(warehouse_url)
    ingest_all_files(warehouse_url, folder / "landing", f"day-{days}")
    frontend = params_from_url(db.frontend_url(settings))
    for code in summary.frontend_rows:
        pull_frontend(warehouse, frontend, dataset(code), f"day-{days}")
    build.build_observations(settings, warehouse, f"day-{days}")
    build.resolve_entities(warehouse, f"day-{days}")
    return summary


def reset_world(settings, warehouse_url: str) -> None:  # type: ignore[no-untyped-def]
    """An empty deployment: nothing ingested, resolved or published, no front-end tables."""
    from mdm import db, publish
    from mdm.access.roles import ensure_roles

    reset_ingestion(warehouse_url)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate resolve.person_record, resolve.legal_person_record, resolve.entity_event, "
            "resolve.steward_decision, resolve.record_link, access.person_pseudonym"
        )
        # A new world is a new deployment: nothing published yet (the publish gate compares
        # row counts with the previous publish).
        conn.execute(
            f"drop table if exists {', '.join(f'mdm.{t}' for t in publish.TABLES)} cascade"
        )
        # Nor built: the first build of the world is a full one (the repositories are
        # incremental, and a test may have edited mdm_build by hand).
        conn.execute("drop schema if exists mdm_build cascade")
        # Staging and the observations are incremental too (ops.model_delivery records what
        # each model applied): a new deployment starts them from nothing as well.
        conn.execute("drop schema if exists staging, intermediate cascade")
        conn.execute("truncate ops.model_delivery")
        conn.execute("truncate ops.record_change")  # what the observation models changed
        ensure_roles(conn)  # the schemas again, with their grants and default privileges
    drop_frontend_tables(db.frontend_url(settings))


def drop_frontend_tables(frontend_url: str) -> None:
    """The departments' front-end tables (every front-end dataset of the registry)."""
    tables = [s.table or s.code for s in datasets().values() if s.channel == "frontend_db"]
    with psycopg.connect(frontend_url, autocommit=True) as conn:
        conn.execute(f"drop table if exists {', '.join(f'public.{t}' for t in tables)}")


def frontend_table(frontend_url: str, code: str, rows: list[dict[str, Any]]) -> None:
    """A department's front-end table as the standard describes it (registry column types,
    lower-case names, the record key as primary key), holding ``rows``."""
    spec = dataset(code)
    names = [c.name.lower() for c in spec.columns]
    columns = ", ".join(f"{c.name.lower()} {c.sql_type or 'varchar'}" for c in spec.columns)
    key = ", ".join(k.lower() for k in spec.record_key)
    with psycopg.connect(frontend_url) as conn:
        conn.execute(f"create table public.{spec.table} ({columns}, primary key ({key}))")
        with conn.cursor().copy(f"copy public.{spec.table} ({', '.join(names)}) from stdin") as cp:
            for row in rows:
                cp.write_row([row.get(n) for n in names])


def drop_login_users(warehouse_url: str, users: list[str]) -> None:
    """Drop the login users a test created: roles belong to the whole server, and an external
    one (MDM_DATABASE_URL) would otherwise collect them run after run."""
    from psycopg import sql

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        for user in users:
            # Other sessions of the user (a pooled connection closing late) would block it.
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                (user,),
            )
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(user)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


def register_row(warehouse_url: str, where: str) -> tuple[str, str, dict[str, str]]:
    """A live register (gat_czrk) record of a published person (``where`` on ``p``,
    mdm.natural_person, the first by person id): the person, the record key, and the
    record's current raw row as the columns of a delta delivery."""
    from mdm.registry import dataset

    spec = dataset("gat_czrk")
    with psycopg.connect(warehouse_url) as conn:
        person_id, record_key = conn.execute(
            "select p.person_id, x.record_key from mdm.natural_person p "
            "join mdm.natural_person_xref x on x.person_id = p.person_id "
            f"and x.dataset = 'gat_czrk' and x.is_active where {where} "
            "order by p.person_id limit 1"
        ).fetchone()  # type: ignore[misc]
        raw = conn.execute(
            "select to_jsonb(r) from raw.gat_czrk r where rybh = %s "
            "order by _delivery_id desc, _line desc limit 1",
            (record_key,),
        ).fetchone()[0]  # type: ignore[index]
    return person_id, record_key, {c: raw.get(c.lower()) for c in spec.file_columns("delta")}


def deliver(
    landing: Path,
    code: str,
    delivery_id: str,
    files: dict[str, bytes],
    mode: str = "full",
    rows: dict[str, int] | None = None,
    write_files: bool = True,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """A delivery folder as a department writes it: the files, then ``_manifest.json``."""
    folder = landing / code / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, data in files.items():
        if write_files:
            (folder / name).write_bytes(data)
        count = (rows or {}).get(name, data.count(b"\n") - (1 if name.endswith(".csv") else 0))
        entries.append({"name": name, "rows": count, "sha256": hashlib.sha256(data).hexdigest()})
    document = {
        "dataset": code,
        "delivery_id": delivery_id,
        "provider": dataset(code).provider,
        "extract_time": f"{delivery_id[:4]}-{delivery_id[4:6]}-{delivery_id[6:8]}T02:00:00+08:00",
        "mode": mode,
        "encoding": "UTF-8",
        "files": entries,
        **(overrides or {}),
    }
    (folder / "_manifest.json").write_text(json.dumps(document, ensure_ascii=False))
    return folder


def ledger(url: str, code: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("select * from ops.delivery where dataset = %s", (code,))
        return {r["delivery_id"]: r for r in cur.fetchall()}


def counts_add_up(url: str) -> None:
    """rows_declared = rows_loaded + rows_quarantined, as in raw and quarantine, for every
    loaded delivery; nothing in raw or quarantine of any other."""
    with psycopg.connect(url) as conn:
        for code, delivery_id, status, declared, loaded, quarantined in conn.execute(
            "select dataset, delivery_id, status, rows_declared, rows_loaded, rows_quarantined "
            "from ops.delivery"
        ).fetchall():
            in_raw = conn.execute(
                f"select count(*) from raw.{code} where _delivery_id = %s",  # noqa: S608
                (delivery_id,),
            ).fetchone()[0]
            in_quarantine = conn.execute(
                "select count(*) from quarantine.delivery_row where dataset = %s "
                "and delivery_id = %s",
                (code, delivery_id),
            ).fetchone()[0]
            if status in ("loaded", "partially_quarantined"):
                assert declared == loaded + quarantined, (code, delivery_id)
                assert (in_raw, in_quarantine) == (loaded, quarantined), (code, delivery_id)
            else:
                assert (in_raw, in_quarantine) == (0, 0), (code, delivery_id, status)


def current_rows(warehouse_url: str, code: str) -> dict[str, tuple[str | None, str, str]]:
    """Each record's last row in ``raw.<code>`` (as macros/current_records.sql orders them):
    key -> (GXSJ, operation, file). For a dataset keyed by one column."""
    (key,) = (k.lower() for k in dataset(code).record_key)
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            f"select distinct on (btrim({key})) {key}, gxsj, _operation, _file "  # noqa: S608
            f"from raw.{code} order by btrim({key}), _delivery_id desc, _file desc, _line desc"
        ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def outcome_counts(outcomes: dict[str, Any]) -> dict[str, tuple[str, int, int]]:
    """Delivery id -> (status, rows loaded, rows quarantined) of an ingestion's outcomes."""
    return {k: (o.status, o.rows_loaded, o.rows_quarantined) for k, o in outcomes.items()}


def quarantined_rows(warehouse_url: str) -> list[tuple[Any, ...]]:
    """(dataset, delivery id, file, line, reason code, reason, raw text) of every row in
    quarantine, by dataset, delivery, file and line."""
    with psycopg.connect(warehouse_url) as conn:
        return conn.execute(
            "select dataset, delivery_id, file, line, reason_code, reason, raw_text "
            "from quarantine.delivery_row order by 1, 2, 3, 4"
        ).fetchall()
