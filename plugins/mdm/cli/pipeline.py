"""``mdm ingest`` and ``mdm run``: the pipeline's own code, without the scheduler."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mdm import db
from mdm.cli import terminal
from mdm.cli.common import out, warehouse
from mdm.cli.terminal import EXIT_DATA, EXIT_OK, EXIT_USAGE
from mdm.settings import Settings

if TYPE_CHECKING:
    from mdm.orchestration import ChainStep

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
        terminal.error_line(
            "--skip needs DATASET/DELIVERY_ID when more than one dataset is ingested"
        )
        return EXIT_USAGE
    run_id = f"cli__{time.strftime('%Y%m%dT%H%M%S')}__{uuid.uuid4().hex[:6]}"
    frontend = params_from_url(db.frontend_url(settings))
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    show = not args.json
    if show:
        out(
            f"{'dataset':<12} {'delivery':<22} {'status':<22} {'declared':>9} {'loaded':>9} "
            f"{'quarant.':>8}  note"
        )
    with terminal.ChainBar("ingest", len(codes)) as bar:
        for code in codes:
            bar.running(code)
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
                logger.exception("%s", code)
                problems.append(f"{code}: {terminal.one_line(err)}")
                bar.advance()
                continue
            warnings = profile_deliveries(code, warehouse(settings), loaded_ids(report))
            for o in report.outcomes:
                warned = warnings.get(o.delivery_id)
                note = (
                    f"{len(warned)} quality warning(s)"
                    if warned
                    else o.error_code
                    or (f"extra columns {o.extra_columns}" if o.extra_columns else "")
                )
                rows.append(
                    {
                        "dataset": o.dataset, "delivery_id": o.delivery_id, "status": o.status,
                        "rows_declared": o.rows_declared, "rows_loaded": o.rows_loaded,
                        "rows_quarantined": o.rows_quarantined, "error_code": o.error_code,
                        "error": o.error, "quality_warnings": len(warned or []),
                    }
                )  # fmt: skip
                if show:
                    bar.line(
                        f"{o.dataset:<12} {o.delivery_id:<22} {o.status:<22} "
                        f"{o.rows_declared or 0:>9} {o.rows_loaded:>9} {o.rows_quarantined:>8}  "
                        f"{note}"
                    )
            for delivery_id in report.incomplete:
                rows.append({"dataset": code, "delivery_id": delivery_id, "status": "waiting"})
                if show:
                    bar.line(f"{code:<12} {delivery_id:<22} {'waiting (no manifest)':<22}")
            if report.problems:
                problems.append(problems_message(report))
            bar.advance()
    if args.json:
        terminal.write_json({"run_id": run_id, "deliveries": rows, "problems": problems})
    elif problems:
        out("\nNeeds an engineer:\n" + "\n".join(problems))
    return EXIT_DATA if problems else EXIT_OK


@dataclass(frozen=True)
class ChainResult:
    """The DAG runs of one ``run_daily_chain``."""

    steps: list[ChainStep]

    @property
    def unexpected(self) -> list[str]:
        """DAGs that failed for a reason other than the departments' deliveries."""
        return sorted(step.dag_id for step in self.steps if step.unexpected)

    @property
    def delivery_problems(self) -> list[str]:
        """Datasets whose ingestion DAG failed on a rejected or blocked delivery."""
        return sorted(
            s.dag_id.removeprefix("mdm_ingest_")
            for s in self.steps
            if s.failed and not s.unexpected
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dags": [
                {
                    "dag_id": step.dag_id,
                    "state": _state(step),
                    "seconds": round(step.seconds, 1),
                    "run_id": step.outcome.run_id if step.outcome else None,
                    "tasks": [
                        {"task_id": task_id, "state": state, "seconds": seconds}
                        for task_id, state, seconds in _tasks(step)
                    ],
                    "error": step.error,
                    "unexpected": step.unexpected,
                }
                for step in self.steps
            ],
            "unexpected": self.unexpected,
            "delivery_problems": self.delivery_problems,
        }


def _state(step: ChainStep) -> str:
    return step.outcome.state if step.outcome else "not run"


def _tasks(step: ChainStep) -> list[tuple[str, str, float | None]]:
    if step.outcome is None:
        return []
    seconds = step.outcome.task_seconds
    return [(t, s, seconds.get(t)) for t, s in step.outcome.task_states.items()]


_MARK = {"success": "✓", "failed": "✗", "skipped": "–", "upstream_failed": "✗"}


def _seconds(value: float | None) -> str:
    return f"{value:6.1f}s" if value is not None else "      -"


def dag_lines(step: ChainStep, tasks: bool = True) -> list[str]:
    """A line for the DAG run (state, seconds), then one per task (``tasks``)."""
    state = _state(step)
    lines = [f"{_MARK.get(state, '✗')} {step.dag_id:<30} {state:<15} {_seconds(step.seconds)}"]
    if step.outcome is None and step.error:
        lines.append(f"    could not run: {step.error.splitlines()[0]}")
    if tasks:
        for task_id, task_state, seconds in _tasks(step):
            lines.append(f"    {task_id:<28} {task_state:<15} {_seconds(seconds)}")
    return lines


def day_lines(steps: Sequence[ChainStep]) -> list[str]:
    """The chain in a few lines (``mdm demo``): the ingestion DAGs together, then a line per
    other DAG with the seconds of each task that ran."""
    ingestion = [s for s in steps if s.dag_id.startswith("mdm_ingest_")]
    lines = []
    for step in steps:
        if step.dag_id.startswith("mdm_ingest_"):
            if step is ingestion[0]:
                ok = sum(not s.failed for s in ingestion)
                by_deliveries = sorted(
                    s.dag_id.removeprefix("mdm_ingest_")
                    for s in ingestion
                    if s.failed and not s.unexpected
                )
                other = sorted(s.dag_id for s in ingestion if s.unexpected)
                text = f"{len(ingestion)} ingestion DAGs: {ok} success"
                if by_deliveries:
                    text += (
                        f", {len(by_deliveries)} rejected deliveries ({', '.join(by_deliveries)})"
                    )
                if other:
                    text += f", FAILED {', '.join(other)}"
                seconds = sum(s.seconds for s in ingestion)
                mark = "✗" if other else "✓"
                lines.append(f"{mark} {text:<76} {_seconds(seconds)}")
            continue
        state = _state(step)
        ran = " · ".join(
            f"{task_id} {seconds:.1f}s"
            for task_id, task_state, seconds in _tasks(step)
            if seconds is not None and task_state != "skipped"
        )
        head = f"{step.dag_id} {state}"
        lines.append(f"{_MARK.get(state, '✗')} {head:<28} {_seconds(step.seconds)}  {ran}")
    return lines


def run_daily_chain(
    settings: Settings,
    dag_ids: Sequence[str] | None = None,
    until: str | None = None,
    force: bool = False,
    detail: str = "tasks",
) -> ChainResult:
    """Run the DAGs (default: the daily chain), showing each as it ends: ``detail`` "tasks"
    (a line per DAG and per task), "dags" (a line per DAG) or "day" (:func:`day_lines`, at
    the end). Logs go to the command's log file; the terminal shows a bar while it runs."""
    from mdm import airflow_home, orchestration

    db.prepare_database(settings)
    # Airflow logs to stdout; stdout is for this command's own lines.
    with redirect_stdout(sys.stderr), terminal.status("Airflow metadata: migrating"):
        airflow_home.migrate_metadata(settings)
    chain = list(dag_ids or orchestration.DAILY_CHAIN)
    steps: list[ChainStep] = []
    title = f"day {until}" if until else "chain"
    with terminal.ChainBar(title, len(chain)) as bar:
        bar.running(chain[0])
        for step in orchestration.run_chain(settings, chain, until=until, force=force):
            steps.append(step)
            bar.advance()
            if len(steps) < len(chain):
                bar.running(chain[len(steps)])
            if detail != "day":
                for line in dag_lines(step, tasks=detail == "tasks"):
                    bar.line(line)
    result = ChainResult(steps)
    if detail == "day":
        for line in day_lines(steps):
            terminal.progress_line(line)
    if result.delivery_problems and detail != "day":
        terminal.progress_line(
            f"deliveries need an engineer (ops.delivery, status rejected/blocked): "
            f"{', '.join(result.delivery_problems)}"
        )
    if result.unexpected:
        terminal.progress_line(
            f"FAILED: {', '.join(result.unexpected)} (task logs: "
            f"{terminal.current().log_path or settings.airflow_home / 'logs'})"
        )
    return result


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Run DAGs in order; a failed one does not stop the next (as under the scheduler)."""
    result = run_daily_chain(settings, args.dag, args.date, args.force)
    if args.json:
        terminal.write_json(result.as_dict())
    return EXIT_DATA if result.unexpected else EXIT_OK


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
        "--json",
        action="store_true",
        help="print the deliveries and problems as JSON on stdout instead of the table",
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
        "--json",
        action="store_true",
        help="print the DAG runs as JSON on stdout (progress goes to stderr)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="mdm_build builds even when nothing arrived since the last build (after a "
        "change of code, rules or reference data)",
    )
    run.set_defaults(handler=cmd_run)
