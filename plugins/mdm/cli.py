"""``mdm``: the command line of the master-data platform.

Every command calls the same package functions that the DAG tasks call; the
CLI never re-implements a task.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mdm import db
from mdm.connections import ConnParams
from mdm.db import embedded
from mdm.settings import (
    InsecureConfigurationError,
    Settings,
    load_settings,
    refuse_placeholder_secrets,
)

logger = logging.getLogger("mdm")

DATABASE_ROLES = ("warehouse", "airflow", "frontend")


def _out(text: str) -> None:
    """Command output for the user (stdout), as opposed to log lines (stderr)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _database_name(settings: Settings, role: str) -> str:
    return {
        "warehouse": settings.warehouse_db,
        "airflow": settings.airflow_db,
        "frontend": settings.frontend_db,
    }[role]


def prepare_database(settings: Settings) -> str:
    """Server up, the three databases present, warehouse migrated, the standardisation
    rules built. Idempotent."""
    from mdm.connections import params_from_url
    from mdm.db.migrate import apply_migrations
    from mdm.transform import ensure_std_functions

    if settings.is_production:
        refuse_placeholder_secrets()
    description = db.ensure_server(settings)
    created = db.ensure_databases(settings)
    from mdm.access.roles import ensure_roles
    from mdm.ingest.raw_tables import ensure_all_raw_tables

    with db.connect(db.warehouse_url(settings)) as conn:
        applied = apply_migrations(conn)
        ensure_all_raw_tables(conn)
        ensure_roles(conn)
    ensure_std_functions(settings, params_from_url(db.warehouse_url(settings)))
    logger.info(
        "databases created: %s; migrations applied: %s",
        created or "none",
        applied or "none pending",
    )
    return description


# --- mdm db -----------------------------------------------------------------


def cmd_db_start(settings: Settings, args: argparse.Namespace) -> int:
    _out(prepare_database(settings))
    _out(db.display_url(settings, settings.warehouse_db))
    return 0


def cmd_db_stop(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.uses_embedded_database:
        _out("MDM_DATABASE_URL is set: the external server is not ours to stop")
        return 0
    _out("stopped" if embedded.stop(settings) else "not running")
    return 0


def cmd_db_status(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.uses_embedded_database:
        try:
            _out(db.ensure_server(settings))
        except db.DatabaseUnavailableError as err:
            _out(str(err))
            return 1
        return 0
    info = embedded.status(settings)
    if info is None:
        _out(f"not running (MDM_HOME={settings.home})")
        return 1
    _out(f"running: pid {info.pid}, {info.host}:{info.port}, data {info.pgdata}")
    return 0


def cmd_db_url(settings: Settings, args: argparse.Namespace) -> int:
    database = _database_name(settings, args.database)
    show = args.show_password
    _out(db.server_url(settings, database) if show else db.display_url(settings, database))
    return 0


# --- mdm airflow / dbt --------------------------------------------------------


def cmd_airflow(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import airflow_home

    command = args.airflow_args or ["standalone"]
    if command == ["env"]:
        for key, value in airflow_home.airflow_environment(settings).items():
            _out(f"export {key}='{value}'")
        return 0
    prepare_database(settings)
    if command == ["standalone"]:
        airflow_home.migrate_metadata(settings)
        _out("Airflow UI: http://localhost:8080 (credentials are printed by Airflow below)")
    return airflow_home.run_airflow_cli(settings, command, check=False)


def cmd_dbt(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.connections import params_from_url
    from mdm.transform import run_dbt

    prepare_database(settings)
    nodes = run_dbt(
        settings, params_from_url(db.warehouse_url(settings)), args.dbt_args or ["build"]
    )
    _out(f"dbt: {len(nodes)} nodes ok")
    return 0


def cmd_share(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from mdm.access import sharing

    db.ensure_server(settings)
    with db.connect(db.warehouse_url(settings)) as conn:
        prepared = conn.execute("select to_regprocedure('access.expire_shares()')").fetchone()
    if not (prepared and prepared[0]):
        prepare_database(settings)  # needs the platform's user; a prepared warehouse does not
    # An engineer may run this with their own login: grants are recorded with session_user.
    with db.connect(db.warehouse_url(settings)) as conn:
        if args.share_command == "grant":
            expires = dt.datetime.fromisoformat(args.expires)
            if expires.tzinfo is None:
                from zoneinfo import ZoneInfo

                from mdm.settings import TIMEZONE

                expires = expires.replace(tzinfo=ZoneInfo(TIMEZONE))
            try:
                grant_id = sharing.grant(
                    conn,
                    args.consumer,
                    args.dataset,
                    [c.strip() for c in args.columns.split(",") if c.strip()],
                    args.purpose,
                    expires,
                )
            except sharing.ShareRefusedError as err:
                _out(f"refused: {err}")
                return 2
            _out(
                f"grant {grant_id}: role mdm_share_{args.consumer} reads "
                f"{sharing.grant_view(conn, grant_id)} until {expires.isoformat()}"
            )
        elif args.share_command == "revoke":
            _out("revoked" if sharing.revoke(conn, args.grant_id) else "no such live grant")
        elif args.share_command == "expire":
            _out(f"expired grants: {sharing.expire(conn)}")
        else:
            for row in sharing.list_grants(conn):
                _out(
                    f"{row[0]:>4} {row[1]:<10} {row[2]:<16} {','.join(row[3]):<40} "
                    f"until {row[6]:%Y-%m-%d} {'revoked ' + str(row[7]) if row[7] else 'live':<12} "
                    f"reads {row[8]}  {row[9]}  purpose: {row[4]}"
                )
    return 0


def cmd_access_add_user(settings: Settings, args: argparse.Namespace) -> int:
    import os

    from mdm.access.roles import add_user

    prepare_database(settings)
    password = os.environ.get("MDM_NEW_USER_PASSWORD")  # never on the command line
    with db.connect(db.warehouse_url(settings)) as conn:
        add_user(
            conn,
            args.user,
            f"mdm_{args.role}" if not args.role.startswith("mdm_") else args.role,
            password,
        )
    _out(f"{args.user} is a member of {args.role}" + ("" if password else " (no password set)"))
    return 0


def cmd_resolve(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import build
    from mdm.connections import params_from_url

    prepare_database(settings)
    warehouse = params_from_url(db.warehouse_url(settings))
    if args.resolve_command == "train":
        from mdm.resolve import splink_artefact
        from mdm.resolve.probabilistic import LINKAGES, load_observations

        for linkage in LINKAGES:
            if args.model not in ("all", linkage.entity_kind):
                continue
            table = load_observations(warehouse, linkage=linkage)
            if table.num_rows == 0:
                _out(f"no {linkage.entity_kind} observations: run the pipeline first (mdm run)")
                return 2
            _out(
                f"written {splink_artefact.train(linkage.model, table)} ({table.num_rows} records)"
            )
        return 0
    run_id = f"cli__{time.strftime('%Y%m%dT%H%M%S')}"
    if args.full:
        return _resolve_full(settings, warehouse, run_id, args)
    counts = build.resolve_entities(warehouse, run_id)
    _out(f"resolution: {counts}")
    return 0


def _resolve_full(
    settings: Settings, warehouse: ConnParams, run_id: str, args: argparse.Namespace
) -> int:
    import json

    from mdm.resolve.full import SCRATCH_SCHEMA, compare_full_with_incremental

    report = compare_full_with_incremental(warehouse, run_id, settings, keep=args.keep)
    _out("full re-resolution vs the incremental result (published ids are not changed)")
    _out(
        f"{'':<13} {'records':>8} {'precision':>9} {'recall':>8} {'merged':>7} {'split':>6} "
        f"{'agree':>6}"
    )
    for kind in ("person", "organisation"):
        r = report[kind]
        _out(
            f"{kind:<13} {r['records']:>8} {r['precision']:>9.6f} {r['recall']:>8.6f} "
            f"{r['over_merged_entities']:>7} {r['split_entities']:>6} {str(r['agree']):>6}"
        )
        for example in r["examples"]:
            _out(f"  {example['entity_id']}: {example['records']} -> {example['full_run_groups']}")
    if args.keep:
        _out(f"the full run is kept in schema {SCRATCH_SCHEMA}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        _out(f"written {args.json}")
    return 0 if all(report[kind]["agree"] for kind in ("person", "organisation")) else 3


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.connections import params_from_url
    from mdm.resolve.explain import explain

    result = explain(params_from_url(db.warehouse_url(settings)), args.entity_id)
    if not result["records"]:
        _out(f"no source records for {args.entity_id}")
        return 1
    _out(f"{args.entity_id}: {len(result['records'])} source records")
    for r in result["records"]:
        probability = "" if r["match_probability"] is None else f" p={r['match_probability']:.4f}"
        _out(f"  {r['dataset']:<11} {r['record_key']:<26} {r['match_method']:<19}{probability}")
    for e in result["events"]:
        weights = e["evidence"].get("weights", {})
        detail = ", ".join(f"{k.removeprefix('mw_')}={v:+.1f}" for k, v in weights.items() if v)
        _out(
            f"  {e['occurred_at']:%Y-%m-%d %H:%M} {e['event']:<8} {e['entity_id']} -> "
            f"{e['into_id']} ({e['dataset']}/{e['record_key']}; {detail})"
        )
    return 0


def cmd_steward(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.connections import params_from_url
    from mdm.resolve.steward import apply_steward_decisions

    prepare_database(settings)
    with db.connect(db.warehouse_url(settings)) as conn:
        if args.steward_command == "list":
            for row in conn.execute(
                """select decision_id, decision, dataset_a || '/' || record_key_a,
                          dataset_b || '/' || record_key_b, decided_by, decided_at, reason
                   from resolve.steward_decision where withdrawn_at is null
                   order by decision_id"""
            ):
                _out(
                    f"{row[0]:>4} {row[1]:<11} {row[2]} {row[3]} by {row[4]} "
                    f"{row[5]:%Y-%m-%d}: {row[6]}"
                )
            return 0
        if args.steward_command == "withdraw":
            withdrawn = conn.execute(
                "update resolve.steward_decision set withdrawn_at = now() "
                "where decision_id = %s and withdrawn_at is null",
                (args.decision_id,),
            ).rowcount
            conn.commit()
            _out(f"decision {args.decision_id} withdrawn" if withdrawn else "no such decision")
            return 0 if withdrawn else 1
        records = []
        for value in (args.a, args.b):
            dataset, _, record_key = value.partition("/")
            if not record_key:
                _out(f"{value!r}: expected DATASET/RECORD_KEY, e.g. gat_czrk/4501...#SELF")
                return 2
            records.append((dataset, record_key))
        decision = "must_link" if args.steward_command == "merge" else "cannot_link"
        # The new decision supersedes any earlier one on the same pair.
        conn.execute(
            """update resolve.steward_decision set withdrawn_at = now()
               where withdrawn_at is null
                 and ((dataset_a, record_key_a, dataset_b, record_key_b) = (%s, %s, %s, %s)
                   or (dataset_a, record_key_a, dataset_b, record_key_b) = (%s, %s, %s, %s))""",
            (*records[0], *records[1], *records[1], *records[0]),
        )
        inserted = conn.execute(
            """insert into resolve.steward_decision
                   (decision, dataset_a, record_key_a, dataset_b, record_key_b, reason)
               values (%s, %s, %s, %s, %s, %s) returning decision_id""",
            (decision, *records[0], *records[1], args.reason),
        ).fetchone()
        conn.commit()
    counts = apply_steward_decisions(
        params_from_url(db.warehouse_url(settings)), f"steward__{time.strftime('%Y%m%dT%H%M%S')}"
    )
    applied = (
        f"applied: {counts['merged']} merged, {counts['split']} split, "
        f"{counts['conflicts']} conflicts, {counts['waiting_for_records']} waiting for records; "
        "the repositories follow at the next mdm_build"
    )
    if decision == "must_link" and _in_different_entities(settings, records):
        # Not merged although both records are known: it would join a cannot-link pair.
        _out(
            f"refused: decision {inserted[0] if inserted else '?'} ({args.a} and {args.b} are "
            "one entity) would join records under a cannot-link decision; it stays recorded "
            "but is not applied until that one is withdrawn (mdm steward list / withdraw)"
        )
        _out(applied)
        return 1
    verb = "are one entity" if decision == "must_link" else "are never one entity"
    _out(f"decision {inserted[0] if inserted else '?'}: {args.a} and {args.b} {verb}")
    _out(applied)
    return 0


def _in_different_entities(settings: Settings, records: list[tuple[str, str]]) -> bool:
    """Both records are resolved (person or organisation) and their ids differ."""
    with db.connect(db.warehouse_url(settings)) as conn:
        ids = [
            conn.execute(
                """select person_id from resolve.person_record
                   where dataset = %(d)s and record_key = %(k)s
                   union all
                   select legal_person_id from resolve.legal_person_record
                   where dataset = %(d)s and record_key = %(k)s""",
                {"d": dataset, "k": record_key},
            ).fetchone()
            for dataset, record_key in records
        ]
    return all(ids) and ids[0] != ids[1]


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from mdm.connections import params_from_url
    from mdm.resolve.evaluate import evaluate

    truth_dir = args.truth or settings.home / "truth"
    results = evaluate(params_from_url(db.warehouse_url(settings)), truth_dir)
    _out(
        f"{'':<13} {'records':>8} {'precision':>9} {'recall':>8} {'f1':>8} "
        f"{'over-merged':>11} {'split':>6}"
    )
    for kind in ("person", "organisation"):
        r = results[kind]
        _out(
            f"{kind:<13} {r['records']:>8} {r['precision']:>9.4f} {r['recall']:>8.4f} "
            f"{r['f1']:>8.4f} {r['over_merged_entities']:>11} {r['split_entities']:>6}"
        )
    person = results["person"]
    _out(
        f"twin pairs merged into one person: {person['twin_pairs_merged']} "
        f"of {person['twin_pairs']}"
    )
    organisation = results["organisation"]
    _out(
        f"organisations of one owner made one: {organisation['same_owner_pairs_merged']} "
        f"of {organisation['same_owner_pairs']} pairs"
    )
    if results["hard_cases"]:
        _out(f"{'hard case':<20} {'records':>8} {'linked':>8} {'recall':>8} {'wrong':>6}")
        for case, r in results["hard_cases"].items():
            _out(
                f"{case:<20} {r['records']:>8} {r['linked']:>8} {r['recall']:>8.4f} "
                f"{r['wrongly_linked']:>6}"
            )
    repository = results["repository"]
    if repository:
        _out(
            f"persons published {repository['published_persons']} for "
            f"{repository['true_persons']} true ({repository['published_persons_excess']:+.2%}); "
            f"golden ID number, sex and birth date right: {repository['golden_identity_right']:.2%}"
        )
        _out(
            f"employee relations: recall {repository['employee_recall']:.4f}, "
            f"precision {repository['employee_precision']:.4f} "
            f"({repository['employee_relations']} true); employers named without a valid "
            f"code: {repository['employer_by_name_recall']:.4f} of "
            f"{repository['employer_by_name_records']}"
        )
        _out(f"{'relation':<21} {'true':>6} {'published':>9} {'recall':>8} {'precision':>9}")
        for relation_type, r in repository["relations"].items():
            _out(
                f"{relation_type:<21} {r['true']:>6} {r['published']:>9} {r['recall']:>8.4f} "
                f"{r['precision']:>9.4f}"
            )
        legal = repository["legal_persons"]
        _out(
            f"legal persons published {legal['published']}; right: name {legal['name_right']:.2%}, "
            f"credit code {legal['uscc_right']:.2%}, status {legal['status_right']:.2%}, "
            f"legal representative {legal['legal_rep_right']:.2%}"
        )
    churn = results["id_churn"]
    _out(
        f"id churn in the latest run ({churn['run_id']}): {churn['records_moved']} records "
        f"moved between entities, {churn['ids_retired']} ids retired"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        _out(f"written {args.json}")
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import build, report
    from mdm.connections import params_from_url

    prepare_database(settings)
    warehouse = params_from_url(db.warehouse_url(settings))
    build.build_scorecard(settings, warehouse, f"cli__report__{time.strftime('%Y%m%dT%H%M%S')}")
    path = report.write_report(warehouse, args.out or settings.reports_dir, args.quarter)
    _out(f"written {path}")
    return 0


def cmd_dbt_sources(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.registry.dbt_sources import write_sources_yml

    _out(f"written {write_sources_yml()}")
    return 0


# --- mdm generate ------------------------------------------------------------------


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.generate import GenerateConfig, generate, write_all, write_frontend
    from mdm.generate.noise import NoiseRates

    landing = (args.out / "landing") if args.out else settings.landing_dir
    truth_dir = (args.out / "truth") if args.out else settings.home / "truth"
    config = GenerateConfig(
        persons=args.persons,
        orgs=args.orgs,
        days=args.days,
        seed=args.seed,
        defects=args.defects,
        rates=NoiseRates() if not args.clean else NoiseRates.none(),
    )
    started = time.monotonic()
    summary = generate(config)
    write_all(summary, landing, truth_dir)
    if not args.no_frontend:
        prepare_database(settings)
        counts = write_frontend(db.frontend_url(settings), summary.frontend_rows)
        _out(f"front-end tables: {counts}")
    rows = sum(sum(d.rows.values()) for d in summary.deliveries)
    _out(
        f"{len(summary.deliveries)} deliveries, {rows} rows in {landing}; truth in {truth_dir} "
        f"({len(summary.truth.records)} records, {time.monotonic() - started:.1f}s)"
    )
    return 0


# --- mdm ingest -----------------------------------------------------------------------


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    from mdm.connections import params_from_url
    from mdm.ingest.run import ingest_dataset, loaded_ids, problems_message, profile_deliveries
    from mdm.registry import datasets

    prepare_database(settings)
    codes = args.dataset or list(datasets())
    skip: dict[str, list[str]] = {}
    for item in args.skip or []:
        code, _, delivery_id = item.rpartition("/")
        skip.setdefault(code or (codes[0] if len(codes) == 1 else ""), []).append(delivery_id)
    if "" in skip:
        _out("--skip needs DATASET/DELIVERY_ID when more than one dataset is ingested")
        return 2
    run_id = f"cli__{time.strftime('%Y%m%dT%H%M%S')}__{uuid.uuid4().hex[:6]}"
    warehouse = params_from_url(db.warehouse_url(settings))
    frontend = params_from_url(db.frontend_url(settings))
    problems = []
    _out(
        f"{'dataset':<12} {'delivery':<22} {'status':<22} {'declared':>9} {'loaded':>9} "
        f"{'quarant.':>8}  note"
    )
    for code in codes:
        try:
            report = ingest_dataset(
                code,
                warehouse,
                frontend,
                settings.landing_dir,
                run_id,
                skip.get(code, []),
                reconcile=args.reconcile or None,  # None: when due
            )
        except Exception as err:  # one dataset's failure must not stop the others
            logger.error("%s: %s", code, err)
            problems.append(f"{code}: {err}")
            continue
        warnings = profile_deliveries(code, warehouse, loaded_ids(report))
        for o in report.outcomes:
            if warnings.get(o.delivery_id):
                o.error_code = f"{len(warnings[o.delivery_id])} quality warning(s)"
            note = o.error_code or (f"extra columns {o.extra_columns}" if o.extra_columns else "")
            _out(
                f"{o.dataset:<12} {o.delivery_id:<22} {o.status:<22} {o.rows_declared or 0:>9} "
                f"{o.rows_loaded:>9} {o.rows_quarantined:>8}  {note}"
            )
        for delivery_id in report.incomplete:
            _out(f"{code:<12} {delivery_id:<22} {'waiting (no manifest)':<22}")
        if report.problems:
            problems.append(problems_message(report))
    if problems:
        _out("\nNeeds an engineer:\n" + "\n".join(problems))
        return 1
    return 0


# --- mdm run / demo -------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Run DAGs in order; a failed one does not stop the next (as under the scheduler)."""
    from mdm import airflow_home, orchestration

    prepare_database(settings)
    # Airflow logs to stdout; stdout is for this command's own lines.
    with contextlib.redirect_stdout(sys.stderr):
        airflow_home.migrate_metadata(settings)
    dag_ids = args.dag or list(orchestration.DAILY_CHAIN)
    until = getattr(args, "date", None)
    failed: dict[str, orchestration.DagRunOutcome | None] = {}
    for dag_id in dag_ids:
        started = time.monotonic()
        conf = {"until": until.replace("-", "")} if until and "ingest" in dag_id else None
        try:
            with contextlib.redirect_stdout(sys.stderr):
                outcome = orchestration.run_dag(settings, dag_id, conf)
        except orchestration.DagRunFailedError as err:
            logger.error("%s", err)
            failed[dag_id] = err.outcome
            if err.outcome is None:
                _out(f"{dag_id}: could not run: {err}")
                continue
            outcome = err.outcome
        _out(
            f"{dag_id:<28} {outcome.state:<8} {time.monotonic() - started:5.1f}s  "
            f"{' '.join(f'{t}={s}' for t, s in outcome.task_states.items())}"
        )
    args.failed = failed
    # Rejected or blocked deliveries fail their ingestion DAG's last task, by design: they are
    # the departments' problems, reported here; anything else failing fails the run.
    args.unexpected = {
        dag_id: outcome
        for dag_id, outcome in failed.items()
        if outcome is None
        or not dag_id.startswith("mdm_ingest_")
        or outcome.task_states.get("ingest") != "success"
    }
    delivery_problems = sorted(set(failed) - set(args.unexpected))
    if delivery_problems:
        _out(
            f"deliveries need an engineer (ops.delivery, status rejected/blocked): "
            f"{', '.join(d.removeprefix('mdm_ingest_') for d in delivery_problems)}"
        )
    if args.unexpected:
        _out(
            f"FAILED: {', '.join(sorted(args.unexpected))} (task logs: "
            f"{settings.airflow_home / 'logs'})"
        )
        return 1
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    _out(f"== mdm demo (MDM_HOME={settings.home}; MDM_DEMO_PERSONS sets the world's size)")
    _out("-- 1/4 database: server, databases (warehouse, airflow, frontend), migrations")
    _out("   " + prepare_database(settings))
    persons = int(os.environ.get("MDM_DEMO_PERSONS", "50000"))
    _out(f"-- 2/4 department deliveries: {persons:,} persons, 2 days, with delivery defects")
    cmd_generate(
        settings,
        argparse.Namespace(
            persons=persons,
            orgs=max(1, persons // 10),
            days=2,
            seed=1,
            out=None,
            defects=True,
            clean=False,
            no_frontend=False,
        ),
    )
    unexpected: dict[str, object] = {}
    for day in ("2026-11-01", "2026-11-02"):
        _out(
            f"-- 3/4 the daily chain for {day} through Airflow (dag.test), as the scheduler runs it"
        )
        run_args = argparse.Namespace(dag=None, date=day)
        cmd_run(settings, run_args)
        # The generator planted delivery defects on day 2: their DAGs fail in check_deliveries,
        # with ingestion itself green. Any other failure is a real one.
        unexpected |= run_args.unexpected
    _out("-- 4/4 what landed: the delivery ledger (ops.delivery) and the repositories (mdm)")
    with db.connect(db.warehouse_url(settings)) as conn:
        _out(
            f"   {'dataset':<12} {'deliveries':>10} {'loaded':>7} {'rejected':>8} "
            f"{'rows loaded':>11} {'quarantined':>11}"
        )
        for row in conn.execute(
            """select dataset, count(*),
                      count(*) filter (where status in ('loaded', 'partially_quarantined')),
                      count(*) filter (where status = 'rejected'),
                      coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0)
               from ops.delivery group by dataset order by dataset"""
        ):
            _out(f"   {row[0]:<12} {row[1]:>10} {row[2]:>7} {row[3]:>8} {row[4]:>11} {row[5]:>11}")
        _out("   rejected deliveries (planted defects), with what to do:")
        for (error,) in conn.execute(
            "select error from ops.delivery where status = 'rejected' order by dataset, delivery_id"
        ):
            _out(f"   - {error}")
        _out("   repositories (schema mdm):")
        for table, label in (
            ("natural_person", "natural persons"),
            ("legal_person", "legal persons"),
            ("relation", "relations"),
        ):
            count = conn.execute(f"select count(*) from mdm.{table}").fetchone()  # noqa: S608
            _out(f"   {label:<16} {count[0] if count else 0:>8}")
        for relation_type, count in conn.execute(
            "select relation_type, count(*) from mdm.relation group by 1 order by 1"
        ):
            _out(f"     {relation_type:<22} {count:>6}")
        sample = conn.execute(
            """select person_id, name, name_source, birth_date, birth_date_source, mobile,
                      mobile_source, source_count
               from mdm.natural_person where mobile is not null
               order by source_count desc, person_id limit 1"""
        ).fetchone()
        if sample:
            _out(
                f"   e.g. {sample[0]}: {sample[1]} (name from {sample[2]}), born {sample[3]} "
                f"(from {sample[4]}), mobile from {sample[6]}, {sample[7]} source records"
            )
        _out("   data quality (schema quality), stars per department (goal: four):")
        for department, index, stars in conn.execute(
            """select department, quality_index, stars from quality.quality_department_scorecard
               where quarter = (select max(quarter) from quality.quality_department_scorecard)
               order by quality_index desc"""
        ):
            _out(f"     {department:<8} {'★' * stars}{'☆' * (5 - stars)} {index:>6}")
    from mdm.connections import params_from_url
    from mdm.resolve.evaluate import evaluate

    quality = evaluate(params_from_url(db.warehouse_url(settings)), settings.home / "truth")
    for kind in ("person", "organisation"):
        r = quality[kind]
        _out(
            f"   resolution vs truth, {kind:<12} precision {r['precision']:.4f} "
            f"recall {r['recall']:.4f} F1 {r['f1']:.4f} ({r['records']} records)"
        )
    reports = sorted((settings.reports_dir).glob("quality-*.html"))
    if reports:
        _out(f"Report:     {reports[-1]}")
    _out(
        f"Query it:   psql '{db.display_url(settings, settings.warehouse_db)}'   "
        "(questions: docs/analyst-queries.md)"
    )
    _out("Airflow UI: make airflow        Stop the database: .venv/bin/mdm db stop")
    if unexpected:
        _out(f"demo FAILED: {sorted(unexpected)} failed for a reason other than planted defects")
        return 1
    return 0


# --- parser -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdm",
        description="Master-data platform: natural-person and legal-person repositories.",
        epilog="Configuration: MDM_HOME (local state, default .mdm/), MDM_DATABASE_URL "
        "(use this PostgreSQL instead of the embedded one), MDM_LANDING_DIR.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db_parser = commands.add_parser(
        "db",
        help="manage the database server",
        description="Manage the embedded PostgreSQL server under $MDM_HOME "
        "(or check the external one named by MDM_DATABASE_URL).",
    )
    db_commands = db_parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    start = db_commands.add_parser(
        "start", help="start the server (idempotent), create databases, migrate the warehouse"
    )
    start.set_defaults(handler=cmd_db_start)
    db_commands.add_parser("stop", help="stop the embedded server").set_defaults(
        handler=cmd_db_stop
    )
    db_commands.add_parser("status", help="is the server running, and where").set_defaults(
        handler=cmd_db_status
    )
    url = db_commands.add_parser("url", help="print the connection URL of a database")
    url.add_argument(
        "--database",
        choices=DATABASE_ROLES,
        default="warehouse",
        help="which database (default: warehouse)",
    )
    url.add_argument(
        "--show-password",
        action="store_true",
        help="put the password in the URL (default: redacted, or a passfile for the embedded "
        "server)",
    )
    url.set_defaults(handler=cmd_db_url)

    gen = commands.add_parser(
        "generate",
        help="write realistic department deliveries with ground truth",
        description="A seeded synthetic Guangxi: file drops into the landing zone, the tax "
        "front-end tables into the frontend database, ground truth into "
        "$MDM_HOME/truth (never inside the landing zone).",
    )
    gen.add_argument("--persons", type=int, default=10_000, help="persons in the world")
    gen.add_argument("--orgs", type=int, default=None, help="organisations (default persons/10)")
    gen.add_argument("--days", type=int, default=1, help="day 1 full deliveries, then daily deltas")
    gen.add_argument("--seed", type=int, default=1, help="same seed, same bytes")
    gen.add_argument("--out", type=Path, help="write landing/ and truth/ under this folder instead")
    gen.add_argument(
        "--defects",
        action="store_true",
        help="add the delivery-level defects of the interface standard",
    )
    gen.add_argument("--clean", action="store_true", help="no value noise")
    gen.add_argument("--no-frontend", action="store_true", help="do not write the front-end tables")
    gen.set_defaults(handler=cmd_generate)

    ingest = commands.add_parser(
        "ingest",
        help="load new deliveries and front-end rows into raw, without the scheduler",
        description="The same code as the mdm_ingest_<dataset> DAGs. Exit code 1 when a "
        "delivery was rejected or is blocked.",
    )
    ingest.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    ingest.add_argument(
        "--skip",
        action="append",
        metavar="[DATASET/]DELIVERY_ID",
        help="skip a rejected, blocked or stuck ('loading') delivery, unblocking the deltas "
        "after it",
    )
    ingest.add_argument(
        "--reconcile",
        action="store_true",
        help="front-end tables: compare the whole source table with raw now (missed rows, "
        "deleted records); otherwise every MDM_FRONTEND_RECONCILE_HOURS",
    )
    ingest.set_defaults(handler=cmd_ingest)

    run = commands.add_parser(
        "run",
        help="run the daily chain of DAGs now, without the scheduler",
        description="Run DAGs in-process with dag.test(): the same tasks the scheduler runs.",
    )
    run.add_argument("--dag", action="append", help="run only this DAG (repeatable)")
    run.add_argument(
        "--date",
        help="YYYY-MM-DD: ingest only deliveries extracted up to that day (replay day by day)",
    )
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser(
        "demo",
        help="set everything up and run the pipeline end to end",
        description="Start the database, run the daily chain and show what it produced.",
    )
    demo.set_defaults(handler=cmd_demo)

    airflow = commands.add_parser(
        "airflow",
        help="run Airflow with our home and connections (default: standalone UI)",
        description="`mdm airflow` starts `airflow standalone`; `mdm airflow env` prints the "
        "environment to use the airflow CLI directly; any other arguments are "
        "passed to the airflow CLI (e.g. `mdm airflow dags list`).",
    )
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER)
    airflow.set_defaults(handler=cmd_airflow)

    dbt = commands.add_parser(
        "dbt",
        help="run dbt on the warehouse (default: build)",
        description="Arguments are passed to dbt, e.g. `mdm dbt build --select staging`.",
    )
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    dbt.set_defaults(handler=cmd_dbt)
    commands.add_parser(
        "dbt-sources", help="regenerate the dbt sources of the raw tables from the registry"
    ).set_defaults(handler=cmd_dbt_sources)

    resolve = commands.add_parser("resolve", help="entity resolution")
    resolve_commands = resolve.add_subparsers(
        dest="resolve_command", required=True, metavar="ACTION"
    )
    resolve_train = resolve_commands.add_parser(
        "train",
        help="train the Splink models on the warehouse's observations and write their files",
    )
    resolve_train.add_argument(
        "--model",
        choices=("all", "person", "legal_person"),
        default="all",
        help="which model to train (default: all)",
    )
    resolve_run = resolve_commands.add_parser(
        "run",
        help="resolve unresolved records now; --full re-resolves everything and reports "
        "the difference from the incremental result",
    )
    resolve_run.add_argument(
        "--full",
        action="store_true",
        help="re-resolve every record in a scratch schema and compare (exit 3 if they differ)",
    )
    resolve_run.add_argument("--keep", action="store_true", help="keep the scratch schema")
    resolve_run.add_argument("--json", type=Path, help="also write the comparison as JSON here")
    resolve.set_defaults(handler=cmd_resolve)

    report_parser = commands.add_parser(
        "report", help="the data-quality scorecard and its quarterly HTML report"
    )
    report_parser.add_argument("--quarter", help="e.g. 2026Q4 (default: the latest)")
    report_parser.add_argument("--out", type=Path, help="folder (default $MDM_HOME/reports)")
    report_parser.set_defaults(handler=cmd_report)

    explain_parser = commands.add_parser(
        "explain", help="the source records of an entity and how each was linked"
    )
    explain_parser.add_argument("entity_id", help="a person_id (P...) or legal_person_id (L...)")
    explain_parser.set_defaults(handler=cmd_explain)

    steward = commands.add_parser("steward", help="steward decisions every resolution honours")
    steward_commands = steward.add_subparsers(
        dest="steward_command", required=True, metavar="ACTION"
    )
    for action, help_text in (
        ("merge", "two records are one entity (must-link): their entities merge now"),
        ("split", "two records are different entities (cannot-link): B moves out now"),
        ("cannot-link", "same as split"),
    ):
        decision = steward_commands.add_parser(action, help=help_text)
        decision.add_argument("a", help="DATASET/RECORD_KEY")
        decision.add_argument("b", help="DATASET/RECORD_KEY")
        decision.add_argument("--reason", required=True, help="why: kept with the decision")
    steward_commands.add_parser("list", help="decisions in force")
    withdraw = steward_commands.add_parser("withdraw", help="withdraw a decision (by its id)")
    withdraw.add_argument("decision_id", type=int)
    steward.set_defaults(handler=cmd_steward)

    evaluation = commands.add_parser(
        "evaluate", help="pairwise precision / recall / F1 of the xrefs against the truth"
    )
    evaluation.add_argument("--truth", type=Path, help="truth folder (default $MDM_HOME/truth)")
    evaluation.add_argument("--json", type=Path, help="also write the results as JSON here")
    evaluation.set_defaults(handler=cmd_evaluate)

    share = commands.add_parser(
        "share",
        help="conditional sharing: grant, revoke, list, expire",
        description="A grant creates share.<consumer>__<dataset> (..__<grant id> when that "
        "name is taken by a live grant) with exactly the granted "
        "columns for role mdm_share_<consumer>, records who/what/why/until when, and logs "
        "every read. Datasets marked 不予共享 cannot be granted.",
    )
    share_commands = share.add_subparsers(dest="share_command", required=True, metavar="ACTION")
    share_grant = share_commands.add_parser("grant", help="grant columns of a dataset")
    share_grant.add_argument("--consumer", required=True, help="department, e.g. rst")
    share_grant.add_argument(
        "--dataset", required=True, help="natural_person, legal_person, relation or a source"
    )
    share_grant.add_argument("--columns", required=True, help="comma-separated column names")
    share_grant.add_argument("--purpose", required=True, help="why the consumer needs it")
    share_grant.add_argument("--expires", required=True, help="ISO date/time (Beijing time)")
    share_revoke = share_commands.add_parser("revoke", help="revoke a grant now")
    share_revoke.add_argument("grant_id", type=int)
    share_commands.add_parser("list", help="grants with their reads")
    share_commands.add_parser("expire", help="drop the views of expired grants")
    share.set_defaults(handler=cmd_share)

    access = commands.add_parser("access", help="database users for people")
    access_commands = access.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    add = access_commands.add_parser(
        "add-user",
        help="a login user in a role (password from MDM_NEW_USER_PASSWORD, never an argument)",
    )
    add.add_argument("user")
    add.add_argument("--role", required=True, help="analyst, steward, engineer or share_<consumer>")
    add.set_defaults(handler=cmd_access_add_user)
    return parser


def configure_logging(verbose: bool) -> None:
    from mdm.connections import RedactingFilter

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:  # no password reaches the log, whoever logs
        handler.addFilter(RedactingFilter())
    for noisy in ("great_expectations", "sqlalchemy", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if getattr(args, "orgs", 0) is None:
        args.orgs = max(1, args.persons // 10)
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(load_settings(), args)
    except (
        db.DatabaseUnavailableError,
        embedded.EmbeddedDatabaseError,
        InsecureConfigurationError,
    ) as err:
        logger.error("%s", err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
