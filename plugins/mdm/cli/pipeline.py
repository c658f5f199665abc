"""``mdm ingest`` and ``mdm run``: the pipeline's own code, without the scheduler."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import redirect_stdout

from mdm import db
from mdm.cli.common import out, warehouse
from mdm.settings import Settings

logger = logging.getLogger("mdm")


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.connections import params_from_url
    from mdm.ingest.run import ingest_dataset, loaded_ids, problems_message, profile_deliveries
    from mdm.registry import datasets

    db.prepare_database(settings)
    codes = args.dataset or list(datasets())
    skip: dict[str, list[str]] = {}
    for item in args.skip or []:
        code, _, delivery_id = item.rpartition("/")
        skip.setdefault(code or (codes[0] if len(codes) == 1 else ""), []).append(delivery_id)
    if "" in skip:
        out("--skip needs DATASET/DELIVERY_ID when more than one dataset is ingested")
        return 2
    run_id = f"cli__{time.strftime('%Y%m%dT%H%M%S')}__{uuid.uuid4().hex[:6]}"
    frontend = params_from_url(db.frontend_url(settings))
    problems = []
    out(
        f"{'dataset':<12} {'delivery':<22} {'status':<22} {'declared':>9} {'loaded':>9} "
        f"{'quarant.':>8}  note"
    )
    for code in codes:
        try:
            report = ingest_dataset(
                code,
                warehouse(settings),
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
        warnings = profile_deliveries(code, warehouse(settings), loaded_ids(report))
        for o in report.outcomes:
            warned = warnings.get(o.delivery_id)
            note = (
                f"{len(warned)} quality warning(s)"
                if warned
                else o.error_code or (f"extra columns {o.extra_columns}" if o.extra_columns else "")
            )
            out(
                f"{o.dataset:<12} {o.delivery_id:<22} {o.status:<22} {o.rows_declared or 0:>9} "
                f"{o.rows_loaded:>9} {o.rows_quarantined:>8}  {note}"
            )
        for delivery_id in report.incomplete:
            out(f"{code:<12} {delivery_id:<22} {'waiting (no manifest)':<22}")
        if report.problems:
            problems.append(problems_message(report))
    if problems:
        out("\nNeeds an engineer:\n" + "\n".join(problems))
        return 1
    return 0


def run_daily_chain(
    settings: Settings,
    dag_ids: Sequence[str] | None = None,
    until: str | None = None,
    force: bool = False,
) -> list[str]:
    """Run the DAGs (default: the daily chain), a line per DAG as it ends; return the DAGs
    that failed for a reason other than the departments' deliveries."""
    from mdm import airflow_home, orchestration

    db.prepare_database(settings)
    # Airflow logs to stdout; stdout is for this command's own lines.
    with redirect_stdout(sys.stderr):
        airflow_home.migrate_metadata(settings)
    steps = []
    for step in orchestration.run_chain(
        settings, dag_ids or orchestration.DAILY_CHAIN, until=until, force=force
    ):
        steps.append(step)
        if step.outcome is None:
            out(f"{step.dag_id}: could not run: {step.error}")
            continue
        out(
            f"{step.dag_id:<28} {step.outcome.state:<8} {step.seconds:5.1f}s  "
            f"{' '.join(f'{t}={s}' for t, s in step.outcome.task_states.items())}"
        )
    unexpected = sorted(step.dag_id for step in steps if step.unexpected)
    delivery_problems = sorted(s.dag_id for s in steps if s.failed and not s.unexpected)
    if delivery_problems:
        out(
            f"deliveries need an engineer (ops.delivery, status rejected/blocked): "
            f"{', '.join(d.removeprefix('mdm_ingest_') for d in delivery_problems)}"
        )
    if unexpected:
        out(f"FAILED: {', '.join(unexpected)} (task logs: {settings.airflow_home / 'logs'})")
    return unexpected


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Run DAGs in order; a failed one does not stop the next (as under the scheduler)."""
    return 1 if run_daily_chain(settings, args.dag, args.date, args.force) else 0


def add_ingest(commands: argparse._SubParsersAction) -> None:
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


def add_run(commands: argparse._SubParsersAction) -> None:
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
    run.add_argument(
        "--force",
        action="store_true",
        help="mdm_build builds even when nothing arrived since the last build (after a "
        "change of code, rules or reference data)",
    )
    run.set_defaults(handler=cmd_run)
