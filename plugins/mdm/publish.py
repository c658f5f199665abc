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
TABLES = (
    "natural_person",
    "legal_person",
    "natural_person_xref",
    "legal_person_xref",
    "relation",
    "record_link",  # rebuilt whole, compared whole like relation (not in SCOPE_KEYS)
    "certificate",  # rebuilt whole, compared whole like relation (ADR 0018)
)
# Every version of every golden record, written by the publish from the rows it changes, in
# the same transaction (ADR 0016; the layout of the dbt snapshots it replaces, so
# ``dbt_valid_from <= d < dbt_valid_to`` still reads a past day): table -> (history, key).
HISTORY_SCHEMA = "mdm_history"
HISTORY = {
    "natural_person": ("natural_person_history", "person_id"),
    "legal_person": ("legal_person_history", "legal_person_id"),
}
# Per table, the entity its rows belong to: a scoped publish compares only the rows of the
# entities this build touched (TOUCHED: the incremental repositories' own list).
SCOPE_KEYS = {
    "natural_person": ("person_id", "person"),
    "natural_person_xref": ("person_id", "person"),
    "legal_person": ("legal_person_id", "organisation"),
    "legal_person_xref": ("legal_person_id", "organisation"),
}
EVERY_ROW = sql.SQL("true")
ENTITY_KEYS = {"natural_person": "person_id", "legal_person": "legal_person_id"}
TOUCHED = "intermediate.int_touched_entities"
# What the audit reads of a publish to come (mdm_expectations.publish), in mdm_build.
CHANGES, REMOVED = "{}__changes", "{}__removed"
# The gated codes of a table (column, its std check): the gate's shares of invalid and shared
# codes read the build's counts (build_measures, one row in mdm_build.<table>__measures):
# codes filled, valid, and shared (the rows beyond the first that hold a valid code). The
# publish keeps the published table's counts (ops.publish_measure), so a scoped build's are
# those plus the difference in the touched entities' rows: no pass over every golden record.
MEASURED = {
    "natural_person": ("id_number", "is_valid_id_number"),
    "legal_person": ("uscc", "is_valid_uscc"),
}
MEASURES = "{}__measures"
MEASURE_NAMES = ("filled", "valid", "shared")
VERSION_COLUMNS = {
    "dbt_scd_id": "text",
    "dbt_updated_at": "timestamp without time zone",
    "dbt_valid_from": "timestamp without time zone",
    "dbt_valid_to": "timestamp without time zone",
}


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


def audit(warehouse: ConnParams, run_id: str, scoped: bool = False) -> dict[str, GateResult]:
    """Run the publish suites on ``mdm_build`` and on what publishing it would change (staged
    by :func:`stage_changes`); store every result; return them by table."""
    with psycopg.connect(conninfo(warehouse)) as conn:
        staged = stage_changes(conn, scoped)
        measures = stage_measures(conn, scoped)
        conn.commit()
    logger.info("audit %s: rows changed per table %s; counts %s", run_id, staged, measures)
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


def _validate(context, source, name: str, suite, parameters):  # type: ignore[no-untyped-def]
    """One suite on one table of mdm_build: the GX results of its expectations."""
    import great_expectations as gx

    asset = source.add_table_asset(name, table_name=name, schema_name=BUILD_SCHEMA)
    batch = asset.add_batch_definition_whole_table("build")
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    )
    return definition.run(expectation_parameters=parameters)


def _run_suites(  # type: ignore[no-untyped-def]
    context, source, suites, warehouse: ConnParams, run_id: str, results, low, high
) -> None:
    with psycopg.connect(conninfo(warehouse)) as conn:
        for table, build_suites in suites.SUITES.items():
            previous = _published_rows(conn, table)
            parameters = {
                f"{suites.PREVIOUS_ROWS}_min": math.floor(previous * low) if previous else 0,
                f"{suites.PREVIOUS_ROWS}_max": math.ceil(previous * high) if previous else 10**12,
            }
            whole, changes = build_suites()
            outcomes = {
                "whole": _validate(context, source, table, whole, parameters),
                "changes": _validate(context, source, CHANGES.format(table), changes, {}),
            }
            items = [item for outcome in outcomes.values() for item in outcome.results]
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
                for item in items
                if not item.success and item.expectation_config is not None
            ]
            result = GateResult(
                whole.name,
                not failures,
                len(items),
                failures,
                {part: outcome.describe_dict() for part, outcome in outcomes.items()},
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


def _recreates(published: dict[str, str], build: dict[str, str]) -> bool:
    """Whether publishing the build's shape (re)creates the published table: the first
    publish, or a column dropped or retyped (a new column is added in place)."""
    return published != build and not (
        published and all(build.get(c) == t for c, t in published.items())
    )


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
    if not _recreates(published, build):
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


def _copy_comments(conn: psycopg.Connection, build: str, published: str) -> None:
    """The build table's description and its columns' (dbt's persist_docs) onto the
    published table, which ``like ... including all`` gives the columns' only: analysts read
    them in psql (``\\d+``) and their SQL tools."""
    comments = conn.execute(
        """select a.attname, col_description(a.attrelid, a.attnum)
           from pg_attribute a where a.attrelid = %s::regclass and a.attnum > 0
             and not a.attisdropped
           union all select null, obj_description(%s::regclass, 'pg_class')""",
        (build, build),
    ).fetchall()
    target = sql.Identifier(*published.split("."))
    for column, comment in comments:
        if comment is None:
            continue
        what = (
            sql.SQL("column {}.{}").format(target, sql.Identifier(column))
            if column
            else sql.SQL("table {}").format(target)
        )
        conn.execute(sql.SQL("comment on {} is {}").format(what, sql.Literal(comment)))


def publish(warehouse: ConnParams, run_id: str) -> dict[str, int]:
    """The rows published per table (see :func:`publish_difference`)."""
    return publish_difference(warehouse, run_id)["rows"]


def publish_difference(warehouse: ConnParams, run_id: str, scoped: bool = False) -> dict[str, Any]:
    """Make the published repositories equal the audited build, in one transaction, writing
    only the rows that differ, and their history versions. Returns what ``ops.run_log.detail``
    of step ``publish`` holds: the rows published per table (``rows``), the rows deleted and
    inserted per table (``changes``) and the tables created anew (``recreated``: their views
    went with them).

    Waits at most PUBLISH_LOCK_TIMEOUT_MS for a lock, PUBLISH_ATTEMPTS times."""
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            return _publish_once(warehouse, run_id, scoped)
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


def _touched_only(conn: psycopg.Connection) -> bool:
    """Whether this build recomputed only some entities (dbt's incremental repositories:
    ``TOUCHED`` names them, without its ``all`` row)."""
    if conn.execute("select to_regclass(%s)", (TOUCHED,)).fetchone() == (None,):
        return False
    everything = conn.execute(
        sql.SQL("select exists (select 1 from {} where kind = 'all')").format(sql.SQL(TOUCHED))
    ).fetchone()
    return everything == (False,)


def _scope(table: str, scoped: bool) -> sql.Composable:
    """A filter on ``table``'s rows: all of them, or only the touched entities' rows."""
    if not scoped or table not in SCOPE_KEYS:
        return EVERY_ROW
    key, kind = SCOPE_KEYS[table]
    return sql.SQL("{} in (select entity_id from {} where kind = {})").format(
        sql.Identifier(key), sql.SQL(TOUCHED), sql.Literal(kind)
    )


def _row(columns: list[str], alias: str | None = None) -> sql.Composed:
    """A row as text: hashable (also arrays and json), and NULLs compare equal."""
    names = (sql.Identifier(alias, c) if alias else sql.Identifier(c) for c in columns)
    return sql.SQL("row({})::text").format(sql.SQL(", ").join(names))


def _new_rows(
    published: sql.Composable, build: sql.Composable, columns: list[str], where: sql.Composable
) -> sql.Composed:
    """The build's rows that ``published`` does not have (among the rows ``where`` keeps)."""
    return sql.SQL(
        "select {cols} from {build} as b where {where} and {brow} in "
        "(select {row} from {build} where {where} except "
        "select {row} from {published} where {where})"
    ).format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        build=build,
        published=published,
        where=where,
        brow=_row(columns, "b"),
        row=_row(columns),
    )


def stage_changes(conn: psycopg.Connection, scoped: bool = False) -> dict[str, int]:
    """What publishing mdm_build would change, for the audit: per table the rows it writes
    anew (``mdm_build.<table>__changes``) and per entity table the ids it drops
    (``<table>__removed``). ``scoped``: compare only the rows of the entities this build
    touched, when it touched only some. Returns the changed rows per table."""
    scoped = scoped and _touched_only(conn)
    counts = {}
    for table in TABLES:
        build = sql.SQL("{}.{}").format(sql.Identifier(BUILD_SCHEMA), sql.Identifier(table))
        published = sql.SQL("{}.{}").format(sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table))
        columns = _columns(conn, BUILD_SCHEMA, table)
        published_columns = _columns(conn, PUBLISHED_SCHEMA, table)
        same_shape = published_columns == columns
        where = _scope(table, scoped)
        changes = sql.Identifier(BUILD_SCHEMA, CHANGES.format(table))
        conn.execute(sql.SQL("drop table if exists {}").format(changes))
        # A new shape publishes every row anew.
        query = (
            _new_rows(published, build, list(columns), where)
            if same_shape
            else sql.SQL("select * from {}").format(build)
        )
        counts[table] = conn.execute(
            sql.SQL("create unlogged table {} as {}").format(changes, query)
        ).rowcount
        if table in ENTITY_KEYS:
            key = sql.Identifier(ENTITY_KEYS[table])
            removed = sql.Identifier(BUILD_SCHEMA, REMOVED.format(table))
            conn.execute(sql.SQL("drop table if exists {}").format(removed))
            gone = (
                sql.SQL(
                    "select {key} from {published} where {where} "
                    "except select {key} from {build} where {where}"
                )
                if published_columns
                else sql.SQL("select {key} from {build} where false")
            )
            conn.execute(
                sql.SQL("create unlogged table {} as ").format(removed)
                + gone.format(key=key, published=published, build=build, where=where)
            )
        for name in (CHANGES, REMOVED):
            if name == CHANGES or table in ENTITY_KEYS:
                conn.execute(
                    sql.SQL("analyze {}").format(sql.Identifier(BUILD_SCHEMA, name.format(table)))
                )
    return counts


def whole_measures(
    conn: psycopg.Connection, table: str, relation: sql.Composable
) -> dict[str, int]:
    """One pass over ``relation``: codes filled, valid, shared. Grouped by code first, so
    the check runs once per distinct code (the fence keeps it from being inlined twice)."""
    column, check = MEASURED[table]
    row = conn.execute(
        sql.SQL(
            "select coalesce(sum(n), 0), coalesce(sum(n) filter (where v), 0), "
            "coalesce(sum(n - 1) filter (where v), 0) "
            "from (select n, std.{check}(c) as v from (select {col} as c, count(*) as n "
            "from {rel} where {col} is not null group by {col}) as g offset 0) as s"
        ).format(check=sql.Identifier(check), col=sql.Identifier(column), rel=relation)
    ).fetchone()
    return dict(zip(MEASURE_NAMES, (int(v) for v in row), strict=True))  # type: ignore[union-attr]


def _scope_names(table: str, where: sql.Composable) -> dict[str, sql.Composable]:
    column, check = MEASURED[table]
    return {
        "col": sql.Identifier(column),
        "check": sql.Identifier(check),
        "where": where,
        "build": sql.Identifier(BUILD_SCHEMA, table),
        "published": sql.Identifier(PUBLISHED_SCHEMA, table),
    }


def _scope_part(
    conn: psycopg.Connection, table: str, relation: sql.Composable, where: sql.Composable
) -> dict[str, int]:
    """The measures of ``relation``'s rows that ``where`` keeps (filled, valid), and the
    shared rows of the codes in ``mdm_scope_codes`` over all its rows (an index lookup per
    code)."""
    row = conn.execute(
        sql.SQL(
            "select count({col}), count(*) filter (where std.{check}({col})), "
            "(select coalesce(sum(n - 1), 0) from (select count(*) as n from {rel} "
            "where {col} in (select code from mdm_scope_codes) group by {col}) as g) "
            "from {rel} where {where}"
        ).format(rel=relation, **_scope_names(table, where))
    ).fetchone()
    return dict(zip(MEASURE_NAMES, (int(v) for v in row), strict=True))  # type: ignore[union-attr]


def _measures_less_scope(
    conn: psycopg.Connection, table: str, scoped: bool
) -> dict[str, int] | None:
    """``scoped``: the published table's counts (kept by the publish, when they are of the
    published table as it stands: same rows, same shape) less those of the touched entities'
    rows, whose valid codes go to ``mdm_scope_codes`` (with the build's); None when not
    scoped or nothing is kept."""
    if not scoped or _columns(conn, PUBLISHED_SCHEMA, table) != _columns(conn, BUILD_SCHEMA, table):
        return None
    stored: dict[str, int] = {
        measure: int(value)
        for measure, value in conn.execute(
            "select measure, value from ops.publish_measure where table_name = %s", (table,)
        )
    }
    if stored.get("rows") != _published_rows(conn, table) or not all(
        name in stored for name in MEASURE_NAMES
    ):
        return None
    names = _scope_names(table, _scope(table, True))
    conn.execute("drop table if exists pg_temp.mdm_scope_codes")
    conn.execute(
        sql.SQL(
            "create temporary table mdm_scope_codes as "
            "select {col} as code from {published} where {where} and std.{check}({col}) "
            "union select {col} from {build} where {where} and std.{check}({col})"
        ).format(**names)
    )
    touched = _scope_part(conn, table, names["published"], names["where"])
    return {name: stored[name] - touched[name] for name in MEASURE_NAMES}


def _measures_with_scope(
    conn: psycopg.Connection, table: str, relation: sql.Composable, less: dict[str, int] | None
) -> dict[str, int]:
    """``relation``'s counts: those without the touched entities' rows (``less``) plus
    theirs in ``relation``, or one pass over it when ``less`` is None."""
    if less is None:
        return whole_measures(conn, table, relation)
    touched = _scope_part(conn, table, relation, _scope(table, True))
    conn.execute("drop table pg_temp.mdm_scope_codes")
    return {name: less[name] + touched[name] for name in MEASURE_NAMES}


def build_measures(conn: psycopg.Connection, table: str, scoped: bool) -> dict[str, int]:
    """The gate's counts of ``mdm_build.<table>`` (MEASURED): ``scoped`` (the build
    recomputed only the touched entities, the only rows where it differs from the published
    table), from the published table's kept counts and the touched entities' rows in both;
    otherwise one pass over the build."""
    less = _measures_less_scope(conn, table, scoped)
    return _measures_with_scope(conn, table, sql.Identifier(BUILD_SCHEMA, table), less)


def stage_measures(conn: psycopg.Connection, scoped: bool = False) -> dict[str, dict[str, int]]:
    """The build's counts for the gate (``mdm_build.<table>__measures``, one row)."""
    scoped = scoped and _touched_only(conn)
    staged = {}
    for table in MEASURED:
        staged[table] = measures = build_measures(conn, table, scoped)
        target = sql.Identifier(BUILD_SCHEMA, MEASURES.format(table))
        values = (
            sql.SQL("{}::bigint as {}").format(sql.Literal(measures[n]), sql.Identifier(n))
            for n in MEASURE_NAMES
        )
        conn.execute(sql.SQL("drop table if exists {}").format(target))
        conn.execute(
            sql.SQL("create unlogged table {} as select {}").format(
                target, sql.SQL(", ").join(values)
            )
        )
    return staged


def _keep_measures(
    conn: psycopg.Connection, table: str, measures: dict[str, int], rows: int
) -> None:
    """The published table's counts, in the publish transaction."""
    conn.cursor().executemany(
        "insert into ops.publish_measure (table_name, measure, value) values (%s, %s, %s) "
        "on conflict (table_name, measure) do update set value = excluded.value",
        [(table, name, value) for name, value in {**measures, "rows": rows}.items()],
    )


def drop_staged_changes(conn: psycopg.Connection) -> None:
    """The staged changes go once published (they would double mdm_build after day 1)."""
    for table in MEASURED:
        conn.execute(
            sql.SQL("drop table if exists {}").format(
                sql.Identifier(BUILD_SCHEMA, MEASURES.format(table))
            )
        )
    for table in TABLES:
        for name in (CHANGES, REMOVED):
            conn.execute(
                sql.SQL("drop table if exists {}").format(
                    sql.Identifier(BUILD_SCHEMA, name.format(table))
                )
            )


def _apply_difference(
    conn: psycopg.Connection,
    published: sql.Composable,
    build: sql.Composable,
    columns: list[str],
    history: tuple[sql.Composable, str] | None = None,
    where: sql.Composable = EVERY_ROW,
) -> tuple[int, int]:
    """Make ``published`` equal ``build`` (among the rows ``where`` keeps) by deleting the
    rows the build no longer has and inserting the rows it has anew: a changed row is one of
    each, an unchanged row is not touched (no dead tuple, no history version, its xmin
    stays). Rows compare as a whole, by their text; every repository row is unique (keys,
    ``select distinct``). DELETE, not TRUNCATE: readers see the previous rows until the commit.

    With ``history`` (the history table and the key column): every inserted row is a new
    version from now, and the current version of every key deleted or inserted ends now.
    Returns (rows deleted, rows inserted)."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    delete = sql.SQL(
        "delete from {published} as p using "
        "(select {row} as r from {published} where {where} "
        "except select {row} from {build} where {where}) as gone "
        "where {prow} = gone.r returning {key}"
    )
    names = {"published": published, "build": build, "row": _row(columns), "where": where}
    # What is left of the published rows is in the build: the rest of the build is new.
    insert = sql.SQL("insert into {published} ({cols}) {new} returning {cols}").format(
        published=published, cols=cols, new=_new_rows(published, build, columns, where)
    )
    if history is None:
        deleted = conn.execute(
            delete.format(prow=_row(columns, "p"), key=sql.SQL("1"), **names)
        ).rowcount
        return deleted, conn.execute(insert).rowcount
    table, key_column = history
    key = sql.Identifier(key_column)
    version = sql.SQL(", ").join(sql.Identifier(c) for c in VERSION_COLUMNS)
    # Data-modifying CTEs all run, whatever the outer select reads. The versions inserted now
    # have dbt_valid_from = now (the transaction's start): only older ones are closed.
    deleted, inserted, _, _ = conn.execute(
        sql.SQL(
            "with gone as ({delete}), new as ({insert}), "
            "versions as (insert into {history} ({cols}, {version}) "
            "    select {cols}, md5({key}::text || '|' || localtimestamp::text), "
            "           localtimestamp, localtimestamp, null from new returning 1), "
            "closed as (update {history} as h set dbt_valid_to = localtimestamp "
            "    where h.dbt_valid_to is null and h.dbt_valid_from < localtimestamp "
            "      and h.{key} in (select {key} from gone union select {key} from new) "
            "    returning 1) "
            "select (select count(*) from gone), (select count(*) from new), "
            "       (select count(*) from versions), (select count(*) from closed)"
        ).format(
            delete=delete.format(prow=_row(columns, "p"), key=sql.SQL("p.{}").format(key), **names),
            insert=insert,
            history=table,
            version=version,
            key=key,
            cols=cols,
        )
    ).fetchone()  # type: ignore[misc]
    return int(deleted), int(inserted)


def _history_statements(
    history: tuple[str, str], published: dict[str, str], existing: dict[str, str],
    recreated: bool,
) -> list[sql.Composed]:  # fmt: skip
    """What makes the history table hold every published column (created the first time;
    a new published column is added, an old one stays for the versions that have it). When
    the published table was recreated (a new shape) every current version ends: all rows are
    published anew, each as a new version. The current versions are indexed by key: a
    publish ends those of the keys it changes."""
    name, key = history
    table = sql.SQL("{}.{}").format(sql.Identifier(HISTORY_SCHEMA), sql.Identifier(name))
    if not existing:
        columns = {**published, **VERSION_COLUMNS}
        statements = [
            sql.SQL("create table {} ({})").format(
                table,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                    for c, t in columns.items()
                ),
            )
        ]
    else:
        statements = [
            sql.SQL("alter table {} add column {} {}").format(
                table, sql.Identifier(column), sql.SQL(kind)
            )
            for column, kind in published.items()
            if column not in existing
        ]
    statements.append(
        sql.SQL("create index if not exists {} on {} ({}) where dbt_valid_to is null").format(
            sql.Identifier(f"{name}_current"), table, sql.Identifier(key)
        )
    )
    if recreated:
        statements.append(
            sql.SQL(
                "update {} set dbt_valid_to = localtimestamp "
                "where dbt_valid_to is null and dbt_valid_from < localtimestamp"
            ).format(table)
        )
    return statements


def _publish_once(warehouse: ConnParams, run_id: str, scoped: bool) -> dict[str, Any]:
    counts: dict[str, int] = {}
    changes: dict[str, dict[str, int]] = {}
    recreated: list[str] = []
    with psycopg.connect(conninfo(warehouse)) as conn:
        scoped = scoped and _touched_only(conn)
        # A DDL waiting for analysts' queries would queue every later reader behind it.
        conn.execute(f"set local lock_timeout = '{int(PUBLISH_LOCK_TIMEOUT_MS)}ms'")
        for schema in (PUBLISHED_SCHEMA, HISTORY_SCHEMA):
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        for table in TABLES:
            build_t = sql.SQL("{}.{}").format(sql.Identifier(BUILD_SCHEMA), sql.Identifier(table))
            published = sql.SQL("{}.{}").format(
                sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table)
            )
            build_columns = _columns(conn, BUILD_SCHEMA, table)
            shape = _columns(conn, PUBLISHED_SCHEMA, table), build_columns
            for statement in _shape_statements(published, build_t, *shape):
                conn.execute(statement)
            if shape[0] != shape[1]:  # a new or reshaped table: the build's descriptions too
                _copy_comments(conn, f"{BUILD_SCHEMA}.{table}", f"{PUBLISHED_SCHEMA}.{table}")
            if _recreates(*shape):
                recreated.append(table)
            if table in MEASURED:  # the published counts less the rows it may change
                less = _measures_less_scope(conn, table, scoped and table not in recreated)
            history = None
            if table in HISTORY:
                name, key = HISTORY[table]
                history_t = sql.SQL("{}.{}").format(
                    sql.Identifier(HISTORY_SCHEMA), sql.Identifier(name)
                )
                for statement in _history_statements(
                    HISTORY[table],
                    build_columns,
                    _columns(conn, HISTORY_SCHEMA, name),
                    table in recreated,
                ):
                    conn.execute(statement)
                history = (history_t, key)
            deleted, inserted = _apply_difference(
                conn,
                published,
                build_t,
                list(build_columns),
                history,
                _scope(table, scoped and table not in recreated),
            )
            changes[table] = {"deleted": deleted, "inserted": inserted}
            counts[table] = conn.execute(
                sql.SQL("select count(*) from {}").format(published)
            ).fetchone()[0]  # type: ignore[index]
            if table in MEASURED:  # plus those of the rows it holds now
                measures = _measures_with_scope(conn, table, published, less)
                _keep_measures(conn, table, measures, counts[table])
        conn.execute(
            """insert into ops.run_log (run_id, step, status, finished_at, rows_affected, detail)
               values (%s, 'publish', 'success', now(), %s, %s::jsonb)
               on conflict (run_id, step) do update set finished_at = now(),
                   rows_affected = excluded.rows_affected, detail = excluded.detail""",
            (
                run_id,
                sum(sum(c.values()) for c in changes.values()),
                Jsonb(
                    detail := {
                        "rows": counts,
                        "changes": changes,
                        "recreated": recreated,
                        "scoped": scoped,
                    }
                ),
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
    return detail


def audit_and_publish(warehouse: ConnParams, run_id: str, scoped: bool = False) -> dict[str, Any]:
    """Audit ``mdm_build`` and publish it if it passes (call it under :func:`build_lock`).

    ``scoped``: the build recomputed only the entities it touched (and the one before it
    was published): audit and publish compare only those entities' rows (and the relations).
    Otherwise every row is compared."""
    results = audit(warehouse, run_id, scoped)
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
    published = publish_difference(warehouse, run_id, scoped)
    with psycopg.connect(conninfo(warehouse)) as conn:
        drop_staged_changes(conn)
    return {"published": published["rows"]} | {
        key: published[key] for key in ("changes", "recreated", "scoped")
    }
