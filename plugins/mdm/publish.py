"""Write-audit-publish for the repositories.

dbt builds the repositories into ``mdm_build`` (with contracts and tests);
:func:`audit` runs the publish suites of ``mdm_expectations.publish`` on them;
:func:`publish` then makes ``mdm`` equal it in one transaction, deleting and inserting only
the rows that differ (an unchanged row is not rewritten: no dead tuple, no history version),
so analysts see the previous version until the commit and never a half state.
When the audit fails nothing is published, the results are stored in
``ops.validation_result`` (dataset ``publish``) and :class:`PublishBlockedError`
says which expectations failed.

Build, audit and publish run under one lock (:func:`build_lock`, a PostgreSQL
advisory lock): a second build waits, so it cannot rebuild ``mdm_build`` between
the first one's audit and its publish. The publish transaction waits at most
``PUBLISH_LOCK_TIMEOUT_MS`` for a table lock (a new shape drops the published
table, which waits for analysts' running queries while every new reader queues
behind it): then it rolls back, pauses and tries again, and finally fails with
:class:`PublishLockTimeoutError`, the previous version still published.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from mdm.connections import ConnParams, conninfo
from mdm.ingest.gate import GateResult, dispose, sqlalchemy_url, store

logger = logging.getLogger(__name__)

BUILD_SCHEMA, PUBLISHED_SCHEMA = "mdm_build", "mdm"
TABLES = ("natural_person", "legal_person", "natural_person_xref", "legal_person_xref", "relation")


# One build at a time from the build of mdm_build to the publish (see build_lock).
BUILD_LOCK = "mdm: build, audit, publish"
BUILD_LOCK_WAIT_SECONDS = 3600
# The publish transaction's wait for a table lock, and how often it tries.
PUBLISH_LOCK_TIMEOUT_MS = 5000
PUBLISH_ATTEMPTS = 3
PUBLISH_RETRY_PAUSE_SECONDS = 10.0


class PublishBlockedError(RuntimeError):
    """The publish gate failed: the previous version stays published."""


class BuildLockedError(RuntimeError):
    """Another build holds the build lock for longer than this one may wait."""


class PublishLockTimeoutError(RuntimeError):
    """Publishing waited too long for a table lock: the previous version stays published."""


@contextlib.contextmanager
def build_lock(warehouse: ConnParams, run_id: str) -> Iterator[psycopg.Connection]:
    """Hold the build lock (a session advisory lock) on a connection of its own.

    Everything from building ``mdm_build`` to publishing it runs inside, so what is
    published is what this build audited. Released when the block ends (or the
    process dies: the session ends with it)."""
    with psycopg.connect(
        conninfo(warehouse), autocommit=True, application_name=f"mdm build lock {run_id}"[:63]
    ) as conn:
        conn.execute(f"set lock_timeout = '{int(BUILD_LOCK_WAIT_SECONDS * 1000)}ms'")
        try:
            conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (BUILD_LOCK,))
        except psycopg.errors.LockNotAvailable as err:
            holder = conn.execute(
                """select a.pid, a.application_name, a.backend_start from pg_locks l
                   join pg_stat_activity a using (pid)
                   where l.locktype = 'advisory' and l.granted
                     and (l.classid::bigint << 32) | l.objid::bigint
                         = hashtextextended(%s, 0)""",
                (BUILD_LOCK,),
            ).fetchone()
            who = (
                f"pid {holder[0]}, {holder[1]!r}, since {holder[2]:%Y-%m-%d %H:%M:%S}"
                if holder
                else "?"
            )
            raise BuildLockedError(
                f"run {run_id}: another build holds the build lock ({who}) and this one waited "
                f"{BUILD_LOCK_WAIT_SECONDS}s: nothing was built or published. It runs again at "
                "its retry; if that build is stuck, cancel it (pg_cancel_backend of its pid)"
            ) from err
        conn.execute("reset lock_timeout")
        yield conn


def _suites() -> Any:
    """The suites, imported when used: they import great_expectations (slow at DAG parse)."""
    from mdm_expectations import publish

    return publish


def _published_rows(conn: psycopg.Connection, table: str) -> int | None:
    exists = conn.execute("select to_regclass(%s)", (f"{PUBLISHED_SCHEMA}.{table}",)).fetchone()
    if not exists or exists[0] is None:
        return None
    row = conn.execute(
        sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table)
        )
    ).fetchone()
    return int(row[0]) if row else 0


def audit(warehouse: ConnParams, run_id: str) -> dict[str, GateResult]:
    """Run the publish suites on ``mdm_build``; store every result; return them by table."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suites = _suites()
    low, high = suites.ROW_COUNT_BOUNDS
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres(
        "warehouse", connection_string=sqlalchemy_url(warehouse)
    )
    results: dict[str, GateResult] = {}
    try:
        _run_suites(context, source, suites, warehouse, run_id, results, low, high)
    finally:
        dispose(source)  # GX's connection pools: close them (see mdm.ingest.gate)
    return results


def _run_suites(  # type: ignore[no-untyped-def]
    context, source, suites, warehouse: ConnParams, run_id: str, results, low, high
) -> None:
    import great_expectations as gx

    with psycopg.connect(conninfo(warehouse)) as conn:
        for table, build_suite in suites.SUITES.items():
            previous = _published_rows(conn, table)
            asset = source.add_table_asset(table, table_name=table, schema_name=BUILD_SCHEMA)
            batch = asset.add_batch_definition_whole_table("build")
            suite = context.suites.add(build_suite())
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
            )
            outcome = definition.run(
                expectation_parameters={
                    f"{suites.PREVIOUS_ROWS}_min": math.floor(previous * low) if previous else 0,
                    f"{suites.PREVIOUS_ROWS}_max": math.ceil(previous * high)
                    if previous
                    else 10**12,
                }
            )
            failures = [
                {
                    "expectation": item.expectation_config.type,
                    "description": item.expectation_config.description,
                    "column": item.expectation_config.kwargs.get("column"),
                    "severity": "critical",
                    "observed": item.result.get(
                        "observed_value", item.result.get("unexpected_count")
                    ),
                }
                for item in outcome.results
                if not item.success and item.expectation_config is not None
            ]
            result = GateResult(
                suite.name, not failures, len(outcome.results), failures, outcome.describe_dict()
            )
            store(conn, "publish", f"{run_id}:{table}", result)
            results[table] = result
        conn.commit()


def _columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    """Column name -> type, in column order."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped "
            "order by a.attnum",
            (f"{schema}.{table}",),
        )
    }


def _shape_statements(
    published_t: sql.Composable, build_t: sql.Composable, published: dict[str, str],
    build: dict[str, str],
) -> list[sql.Composed]:  # fmt: skip
    """What makes the published table take the build's shape, inside the publish transaction.

    New columns are added in place, so the analysts' views over the table stay and readers
    see the previous rows until the commit. Any other change (a column dropped or retyped,
    or the first publish) recreates the table; its dependent views go with it until the
    ``AFTER_PUBLISH`` dbt step rebuilds them.
    """
    if published == build:
        return []
    if published and all(build.get(c) == t for c, t in published.items()):
        return [
            sql.SQL("alter table {} add column {} {}").format(
                published_t, sql.Identifier(column), sql.SQL(kind)
            )
            for column, kind in build.items()
            if column not in published
        ]
    return [
        sql.SQL("drop table if exists {} cascade").format(published_t),
        sql.SQL("create table {} (like {} including all)").format(published_t, build_t),
    ]


def publish(warehouse: ConnParams, run_id: str) -> dict[str, int]:
    """Make the published repositories equal the audited build, in one transaction, writing
    only the rows that differ; returns the rows published per table (the rows deleted and
    inserted per table are in ``ops.run_log.detail`` of step ``publish``, key ``changes``).

    Waits at most PUBLISH_LOCK_TIMEOUT_MS for a lock, PUBLISH_ATTEMPTS times."""
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            return _publish_once(warehouse, run_id)
        except psycopg.errors.LockNotAvailable as err:
            if attempt == PUBLISH_ATTEMPTS:
                raise PublishLockTimeoutError(
                    f"run {run_id}: publishing waited {PUBLISH_ATTEMPTS} times "
                    f"{PUBLISH_LOCK_TIMEOUT_MS} ms for a lock on the published tables, held "
                    f"by a long query or transaction ({err}); the previous version stays "
                    "published. See pg_stat_activity for the holder; the build retries"
                ) from err
            logger.warning(
                "publish %s: lock not granted in %s ms (%s); attempt %s of %s in %ss",
                run_id,
                PUBLISH_LOCK_TIMEOUT_MS,
                err,
                attempt + 1,
                PUBLISH_ATTEMPTS,
                PUBLISH_RETRY_PAUSE_SECONDS,
            )
            time.sleep(PUBLISH_RETRY_PAUSE_SECONDS)
    raise AssertionError("unreachable")


def _apply_difference(
    conn: psycopg.Connection, published: sql.Composable, build: sql.Composable, columns: list[str]
) -> tuple[int, int]:
    """Make ``published`` equal ``build`` by deleting the rows the build no longer has and
    inserting the rows it has anew: a changed row is one of each, an unchanged row is not
    touched (no dead tuple, no history version, its xmin stays). Rows compare as a whole, by
    their text (hashable, and NULLs compare equal); every repository row is unique (keys,
    ``select distinct``). DELETE, not TRUNCATE: readers see the previous rows until the commit.

    Returns (rows deleted, rows inserted)."""

    def row(alias: str | None = None) -> sql.Composed:
        names = (sql.Identifier(alias, c) if alias else sql.Identifier(c) for c in columns)
        return sql.SQL("row({})::text").format(sql.SQL(", ").join(names))

    names = {"published": published, "build": build, "row": row()}
    deleted = conn.execute(
        sql.SQL(
            "delete from {published} as p using "
            "(select {row} as r from {published} except select {row} from {build}) as gone "
            "where {prow} = gone.r"
        ).format(prow=row("p"), **names)
    ).rowcount
    # What is left of the published rows is in the build: the rest of the build is new.
    inserted = conn.execute(
        sql.SQL(
            "insert into {published} ({cols}) select {cols} from {build} as b "
            "where {brow} in (select {row} from {build} except select {row} from {published})"
        ).format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns), brow=row("b"), **names
        )
    ).rowcount
    return deleted, inserted


def _publish_once(warehouse: ConnParams, run_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    changes: dict[str, dict[str, int]] = {}
    with psycopg.connect(conninfo(warehouse)) as conn:
        # A DDL waiting for analysts' queries would queue every later reader behind it.
        conn.execute(f"set local lock_timeout = '{int(PUBLISH_LOCK_TIMEOUT_MS)}ms'")
        conn.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(PUBLISHED_SCHEMA))
        )
        for table in TABLES:
            build_t = sql.SQL("{}.{}").format(sql.Identifier(BUILD_SCHEMA), sql.Identifier(table))
            published = sql.SQL("{}.{}").format(
                sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table)
            )
            build_columns = _columns(conn, BUILD_SCHEMA, table)
            shape = _columns(conn, PUBLISHED_SCHEMA, table), build_columns
            for statement in _shape_statements(published, build_t, *shape):
                conn.execute(statement)
            deleted, inserted = _apply_difference(conn, published, build_t, list(build_columns))
            changes[table] = {"deleted": deleted, "inserted": inserted}
            counts[table] = conn.execute(
                sql.SQL("select count(*) from {}").format(published)
            ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            """insert into ops.run_log (run_id, step, status, finished_at, rows_affected, detail)
               values (%s, 'publish', 'success', now(), %s, %s::jsonb)
               on conflict (run_id, step) do update set finished_at = now(),
                   rows_affected = excluded.rows_affected, detail = excluded.detail""",
            (
                run_id,
                sum(sum(c.values()) for c in changes.values()),
                Jsonb({"rows": counts, "changes": changes}),
            ),
        )
        conn.commit()
        for table in (t for t in TABLES if any(changes[t].values())):  # statistics only
            conn.execute(
                sql.SQL("analyze {}.{}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table)
                )
            )
        conn.commit()
    logger.info("published: %s rows; deleted, inserted: %s", counts, changes)
    return counts


def audit_and_publish(warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Audit ``mdm_build`` and publish it if it passes (call it under :func:`build_lock`)."""
    results = audit(warehouse, run_id)
    failed = {t: r for t, r in results.items() if not r.success}
    if failed:
        detail = "; ".join(
            f"{t}: "
            + ", ".join(
                f"{f['description'] or f['expectation']} (observed {f['observed']})"
                for f in r.failures
            )
            for t, r in failed.items()
        )
        raise PublishBlockedError(
            f"publish gate failed, the previous version stays published: {detail}. Results: "
            f"ops.validation_result where dataset = 'publish' and delivery_id like '{run_id}:%'"
        )
    return {"published": publish(warehouse, run_id)}
