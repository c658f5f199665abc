"""Building the repositories: dbt up to the observations, resolution, dbt from there on.

Called by the ``mdm_build`` DAG (and so by ``mdm run``). The split follows the
data: every model that reads the resolution output (``source:resolve``) is
built after resolution has run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mdm.connections import ConnParams, conninfo
from mdm.runlog import logged_step
from mdm.settings import DBT_PROJECT_DIR, Settings
from mdm.transform import node_summary, run_dbt

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

# The correction loop's problem models: built by DAG mdm_corrections (mdm.corrections), after
# the repositories they read are published.
CORRECTIONS = "path:models/corrections"
# The open resources (公共数据开放) are DAG mdm_open's: built after a publish (mdm.opendata).
OPEN = "path:models/open"
BEFORE_RESOLUTION = [
    "--exclude", "source:resolve+", "source:published+", "path:models/quality", CORRECTIONS, OPEN,
]  # fmt: skip
QUALITY = [
    "--select", "path:models/quality", "dataset_catalogue", "dataset_columns", "certificate_type",
]  # fmt: skip
# The quality models that read resolution's outcome (the certificates' rate) belong to the
# scorecard (mdm_quality), not to the build; the correction models to DAG mdm_corrections.
AFTER_RESOLUTION = [
    "--select", "source:resolve+", "survivorship_rules",
    "--exclude", "path:models/quality", CORRECTIONS, OPEN,
]  # fmt: skip
# What the daily build of an unchanged dbt project leaves out: the unit tests (they test the
# SQL, which changes only with the project: dbt's advice is to run them in development and
# CI, not on every production run; here they also run on the first build of a changed
# project), and the seeds and std functions (built from the project's files, unchanged).
STEADY_EXCLUDES = ["resource_type:unit_test", "resource_type:seed", "resource_type:function"]
# What reads the published repositories: the analysts' views (history is the publish's own;
# the credit profile is its own step, mdm.credit.profile, which remakes the banks' views; the
# correction models are DAG mdm_corrections'.
AFTER_PUBLISH = [
    "--select", "source:published+", "--exclude", CORRECTIONS, "path:models/credit", OPEN,
]  # fmt: skip
ANALYST_VIEWS = DBT_PROJECT_DIR / "models" / "marts" / "analyst"


CHECK_STEP = "check_new_data"
# How long the cut waits for the loads in progress (then the check fails, and Airflow retries
# it): a daily load takes minutes.
INGEST_WAIT_SECONDS = 3600


def check_new_data(warehouse: ConnParams, run_id: str, *, force: bool = False) -> dict[str, Any]:
    """Whether anything arrived since the last successful build; ``build`` says whether to build.

    New is a delivery that put rows into raw (``ops.delivery``: loaded, ``rows_loaded`` > 0)
    or a steward decision taken or withdrawn after the cut of the last build that published
    (``ops.run_log``). This run's cut is the database clock read while holding every dataset's
    loader lock (waiting for the loads in progress): a delivery finished before it is committed,
    so this build reads it; one finished after it is new for the next build. The decision and
    its reasons go to ``ops.run_log`` (step ``check_new_data``) and the log.
    """
    import psycopg

    from mdm.ingest.ledger import LOADED
    from mdm.registry import datasets

    with (
        logged_step(conninfo(warehouse), run_id, CHECK_STEP) as outcome,
        psycopg.connect(conninfo(warehouse)) as conn,
    ):
        waited = _hold_loader_locks(conn, sorted(datasets()))
        cut = _one(conn, "select clock_timestamp()")
        previous = _last_build(conn)
        since = previous[1] if previous else None
        deliveries = [
            {"dataset": d, "delivery_id": i, "rows_loaded": n}
            for d, i, n in conn.execute(
                "select dataset, delivery_id, rows_loaded from ops.delivery "
                "where status = any(%s) and rows_loaded > 0 "
                "and (%s::timestamptz is null or finished_at > %s) order by 1, 2",
                (list(LOADED), since, since),
            )
        ]
        decisions = _one(
            conn,
            "select count(*) from resolve.steward_decision where %s::timestamptz is null "
            "or decided_at > %s or withdrawn_at > %s",
            (since, since, since),
        )
        build = force or previous is None or bool(deliveries) or decisions > 0
        outcome.rows_affected = len(deliveries)
        outcome.detail = {
            "build": build,
            "reason": _reason(force, previous, since, deliveries, decisions),
            "cut": cut.isoformat(),
            "last_build": previous[0] if previous else None,
            "since": since.isoformat() if since else None,
            "deliveries": deliveries,
            "steward_decisions": decisions,
            "waited_for_loads": waited,
        }
    logger.info("%s", outcome.detail["reason"])
    return outcome.detail


def _hold_loader_locks(conn: psycopg.Connection, codes: list[str]) -> list[str]:
    """Take every dataset's loader lock for the transaction (released at its end); return the
    datasets whose loads in progress were waited for. Nothing is held while waiting, so no
    dataset's next load waits for another's."""
    import time

    from mdm.ingest.ledger import lock_key

    waited: list[str] = []
    deadline = time.monotonic() + INGEST_WAIT_SECONDS
    while True:
        busy = [
            code
            for code in codes
            if not _one(conn, "select pg_try_advisory_xact_lock(hashtext(%s))", (lock_key(code),))
        ]
        if not busy:
            return waited
        conn.rollback()  # releases the locks taken
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"ingestion of {', '.join(busy)} still loading after {INGEST_WAIT_SECONDS} s; "
                "the build waits for it. To do: see that ingestion DAG's log; this task retries"
            )
        if not waited:
            logger.info("waiting for the loads in progress to finish: %s", busy)
        waited = sorted(set(waited) | set(busy))
        time.sleep(5)


def _one(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _last_build(conn: psycopg.Connection) -> tuple[str, Any] | None:
    """The last build that published, and its cut: the one its check recorded, or for a build
    run by calling this module's functions (no check) when its observations began. A publish
    without either (``build_repositories`` alone) rebuilt nothing new: the one before counts."""
    row = conn.execute(
        """select b.run_id, coalesce((c.detail ->> 'cut')::timestamptz, o.started_at)
           from ops.run_log b
           left join ops.run_log c on c.run_id = b.run_id and c.step = %s
           left join ops.run_log o on o.run_id = b.run_id and o.step = 'build_observations'
           where b.step = 'build_repositories' and b.status = 'success'
             and (c.detail ->> 'cut' is not null or o.run_id is not null)
           order by b.finished_at desc limit 1""",
        (CHECK_STEP,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _reason(
    force: bool, previous: Any, since: Any, deliveries: list[dict[str, Any]], decisions: int
) -> str:
    """One sentence for the log and the run log: build or not, and why."""
    if force:
        return "param force: building whatever arrived"
    if previous is None:
        return "no build has published yet: building"
    news = [f"{d['dataset']}/{d['delivery_id']} ({d['rows_loaded']} rows)" for d in deliveries]
    if decisions:
        news.append(f"{decisions} steward decision(s)")
    if news:
        return f"new since build {previous[0]} (cut {since}): {', '.join(news)}: building"
    return (
        f"nothing new since build {previous[0]} (cut {since}): no delivery loaded rows and no "
        "steward decision since; staging, resolution and publish skipped"
    )


def build_observations(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Staging, the standardised observations, and their tests.

    Returns what ``ops.run_log.detail`` holds: every dbt node with its status and seconds
    (the Airflow task returns it, so the UI shows it per run as the task's XCom).
    """
    import psycopg

    from mdm.ingest.raw_tables import ensure_all_raw_tables

    with psycopg.connect(conninfo(warehouse)) as conn:
        ensure_all_raw_tables(conn)
    with logged_step(conninfo(warehouse), run_id, "build_observations") as outcome:
        fingerprint, changed = _project_changed(warehouse, "build_observations")
        refresh = ["--full-refresh"] if changed else []
        selection = BEFORE_RESOLUTION if changed else steady(BEFORE_RESOLUTION)
        nodes = run_dbt(settings, warehouse, ["build", *refresh, *selection])
        outcome.rows_affected = len(nodes)
        outcome.detail = {
            "nodes": node_summary(nodes),
            "full_refresh": changed,
            "project_fingerprint": fingerprint,
        }
    return outcome.detail


def steady(selection: list[str]) -> list[str]:
    """A dbt selection (``--select``/``--exclude`` arguments) without STEADY_EXCLUDES."""
    if "--exclude" not in selection:
        return [*selection, "--exclude", *STEADY_EXCLUDES]
    end = selection.index("--exclude") + 1
    while end < len(selection) and not selection[end].startswith("--"):
        end += 1
    return [*selection[:end], *STEADY_EXCLUDES, *selection[end:]]


def _project_changed(warehouse: ConnParams, step: str) -> tuple[str, bool]:
    """This checkout's dbt project fingerprint, and whether it differs from the one the last
    successful ``step`` built with. The models are incremental: rows computed by other SQL,
    rules or survivorship priorities would stay in the entities a day does not touch, so a
    changed project (or none recorded) builds in full once."""
    import psycopg

    from mdm.transform import project_fingerprint

    fingerprint = project_fingerprint()
    with psycopg.connect(conninfo(warehouse)) as conn:
        last = _one(
            conn,
            "select coalesce((select detail ->> 'project_fingerprint' from ops.run_log "
            "where step = %s and status = 'success' order by finished_at desc limit 1), '')",
            (step,),
        )
    if last != fingerprint:
        logger.info("dbt project %s (last %s: %s): full refresh", fingerprint, step, last or "none")
    return fingerprint, last != fingerprint


def resolve_entities(warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Source records -> persistent entity ids: deterministic keys, then Splink for the rest.

    Returns the counts of each step and, under ``seconds``, how long each step took."""
    import time

    from mdm.resolve.context import link_by_context
    from mdm.resolve.deterministic import resolve_deterministic
    from mdm.resolve.entities import ORGANISATION, PERSON
    from mdm.resolve.links import link_records
    from mdm.resolve.probabilistic import link_singletons
    from mdm.resolve.steward import apply_steward_decisions

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("deterministic", lambda: resolve_deterministic(warehouse, run_id)),
        ("splink_person", lambda: link_singletons(warehouse, run_id, kind=PERSON)),
        (
            "splink_organisation",
            lambda: link_singletons(warehouse, run_id, kind=ORGANISATION),
        ),
        ("context", lambda: link_by_context(warehouse, run_id)),
        ("steward", lambda: apply_steward_decisions(warehouse, run_id)),
        ("record_links", lambda: link_records(warehouse, run_id)),
    ]
    with logged_step(conninfo(warehouse), run_id, "resolve_entities") as outcome:
        counts: dict[str, Any] = {}
        seconds: dict[str, float] = {}
        for name, step in steps:
            started = time.perf_counter()
            result = step()
            seconds[name] = round(time.perf_counter() - started, 3)
            if name == "deterministic":
                counts.update(result)  # per kind: person_record, legal_person_record
            else:
                counts[name] = result
        outcome.rows_affected = sum(sum(kind.values()) for kind in counts.values())
        counts["seconds"] = seconds
        outcome.detail = counts
    return counts


def build_repositories(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Survivorship and the repositories into mdm_build, the publish gate, publication into
    mdm with its history, then the analyst views over it where they need building.

    Returns the dbt nodes (status, seconds) and the rows published per table."""
    import psycopg

    from mdm.access.roles import ensure_roles

    with psycopg.connect(conninfo(warehouse)) as conn:
        ensure_roles(conn)  # the analyst views' grants name them
    from mdm.publish import audit_and_publish, build_lock

    with (
        logged_step(conninfo(warehouse), run_id, "build_repositories") as outcome,
        build_lock(warehouse, run_id) as lock,
    ):
        # Under one lock: no other build rewrites mdm_build between our audit and publish.
        with psycopg.connect(conninfo(warehouse)) as conn:
            unpublished = _last_audit_failed(conn) or _last_build_unpublished(conn, run_id)
        fingerprint, changed = _project_changed(warehouse, "build_repositories")
        full = unpublished or changed
        refresh = ["--full-refresh"] if full else []
        selection = AFTER_RESOLUTION if changed else steady(AFTER_RESOLUTION)
        nodes = run_dbt(settings, warehouse, ["build", *refresh, *selection])
        outcome.detail = {
            "nodes": node_summary(nodes),
            "full_refresh": full,
            "project_fingerprint": fingerprint,
        }
        lock.execute("select 1")  # still held (its session is alive) before we publish
        # An incremental build changed only the touched entities' rows (and the relations):
        # the audit and the publish compare those alone.
        outcome.detail |= audit_and_publish(warehouse, run_id, scoped=not full)
        after = []
        if full or outcome.detail["recreated"] or _analyst_views_missing(warehouse):
            after = run_dbt(settings, warehouse, ["build", *AFTER_PUBLISH])
        outcome.detail["nodes"] += node_summary(after)
        outcome.rows_affected = len(nodes) + len(after)
    return outcome.detail


def _analyst_views_missing(warehouse: ConnParams) -> bool:
    """Whether a view of schema analyst is missing. Views read the published tables as they
    stand: a day's new rows need no rebuild; a new project (``full``), a published table
    created anew (its views dropped with it) or a missing view do."""
    import psycopg

    with psycopg.connect(conninfo(warehouse)) as conn:
        views = _one(conn, "select count(*) from pg_views where schemaname = 'analyst'")
    return int(views) < len(list(ANALYST_VIEWS.glob("*.sql")))


def _last_build_unpublished(conn: psycopg.Connection, run_id: str) -> bool:
    """Whether the build before this one did not publish (failed, blocked, or died): its
    rows in mdm_build may differ from mdm outside the entities this build touches, so this
    one builds and compares everything."""
    return bool(
        _one(
            conn,
            """select status <> 'success' from ops.run_log
               where step = 'build_repositories' and run_id <> %s
               order by started_at desc limit 1""",
            (run_id,),
        )
    )


def _last_audit_failed(conn: psycopg.Connection) -> bool:
    """Whether the latest publish audit failed. The repositories are incremental (only the
    entities whose records changed are recomputed): after a failed audit the next build
    rebuilds them in full, so whatever broke the build cannot stay in the other entities."""
    return bool(
        _one(
            conn,
            """select not bool_and(success) from ops.validation_result
               where dataset = 'publish' and regexp_replace(delivery_id, ':[^:]*$', '') = (
                   select regexp_replace(delivery_id, ':[^:]*$', '') from ops.validation_result
                   where dataset = 'publish' order by validated_at desc limit 1)""",
        )
    )


def refresh_access(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """Pseudonyms for new persons; expired share grants dropped."""
    import psycopg

    from mdm.access import sharing
    from mdm.access.pseudonyms import pseudonym_key, refresh_pseudonyms

    with logged_step(conninfo(warehouse), run_id, "refresh_access") as outcome:
        added = refresh_pseudonyms(warehouse, pseudonym_key(settings.home))
        with psycopg.connect(conninfo(warehouse)) as conn:
            expired = sharing.expire(conn)
        outcome.detail = {"pseudonyms_added": added, "grants_expired": expired}
    return outcome.detail


def build_scorecard(settings: Settings, warehouse: ConnParams, run_id: str) -> dict[str, Any]:
    """The quality scorecard (schema quality) from the ledger and the stored GX results."""
    with logged_step(conninfo(warehouse), run_id, "build_scorecard") as outcome:
        nodes = run_dbt(settings, warehouse, ["build", *QUALITY])
        outcome.rows_affected = len(nodes)
        outcome.detail = {"nodes": node_summary(nodes)}
    return outcome.detail
