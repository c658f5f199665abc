"""Run our DAGs without the scheduler: the same DAG code, executed in-process.

``mdm run`` and ``mdm demo`` use :func:`run_dag`, which parses ``dags/`` and
calls ``dag.test()``: every task runs exactly as under the scheduler (same
task functions, same Airflow connections), only without a separate executor.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from mdm.airflow_home import apply_airflow_environment
from mdm.settings import DAGS_DIR, Settings

logger = logging.getLogger(__name__)


def _ingestion_dags() -> tuple[str, ...]:
    from mdm.registry import datasets

    return tuple(f"mdm_ingest_{code}" for code in datasets())


# The DAGs `mdm run` executes, in order. Later stages append theirs.
DAILY_CHAIN = (
    "mdm_platform_check", *_ingestion_dags(), "mdm_build", "mdm_corrections", "mdm_quality",
    "mdm_credit",
)  # fmt: skip


class DagRunFailedError(RuntimeError):
    """A DAG run ended in a state other than success (``outcome`` says which tasks)."""

    def __init__(self, message: str, outcome: DagRunOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class DagRunOutcome:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]
    # Seconds each task ran (None: it did not run, e.g. skipped), in the DAG's task order.
    task_seconds: dict[str, float | None] = field(default_factory=dict)


def load_dags(settings: Settings) -> dict[str, object]:
    """Parse the DAG folder; raise if any file fails to import."""
    apply_airflow_environment(settings)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        errors = "\n".join(f"{path}: {err}" for path, err in bag.import_errors.items())
        raise DagRunFailedError(f"DAG files failed to import:\n{errors}")
    return dict(bag.dags)


def run_dag(
    settings: Settings,
    dag_id: str,
    conf: dict | None = None,
    dags: dict[str, object] | None = None,
) -> DagRunOutcome:
    """Run one DAG to completion with ``dag.test()``; raise if it does not succeed.
    ``dags``: the DAG folder already parsed (:func:`load_dags`), else it is parsed here."""
    dags = dags if dags is not None else load_dags(settings)
    if dag_id not in dags:
        raise DagRunFailedError(f"no DAG {dag_id!r} in {DAGS_DIR}; known: {sorted(dags)}")
    dag = dags[dag_id]
    logger.info("running DAG %s", dag_id)
    # In-process runs do not wait minutes for a retry: the engineer reruns instead.
    for task in dag.tasks:  # type: ignore[attr-defined]
        task.retries = 0
    # Deadlines are the scheduler's watch (docs/adr/0024). dag.test() of Airflow 3.3.2 also
    # breaks on them: it serialises the DAG in memory, so the run's deadline ids are the
    # alerts themselves and DeadlineAlertModel.get_by_id fails when the run succeeds.
    dag.deadline = None  # type: ignore[attr-defined]
    # Airflow's task logs go to stdout under dag.test(); keep stdout for command output.
    with contextlib.redirect_stdout(sys.stderr):
        dag_run = dag.test(run_conf=conf)  # type: ignore[attr-defined]
    # In the order they ran; those that did not run last, in the DAG's order.
    order = {task_id: n for n, task_id in enumerate(dag.task_ids)}  # type: ignore[attr-defined]
    instances = sorted(
        dag_run.get_task_instances(),
        key=lambda ti: (
            ti.start_date is None,
            ti.start_date.timestamp() if ti.start_date else 0.0,
            order.get(ti.task_id, 0),
        ),
    )
    task_states = {ti.task_id: str(ti.state) for ti in instances}
    task_seconds = {
        ti.task_id: (round(float(ti.duration), 1) if ti.duration is not None else None)
        for ti in instances
    }
    outcome = DagRunOutcome(dag_id, dag_run.run_id, str(dag_run.state), task_states, task_seconds)
    if outcome.state != "success":
        failed = {t: s for t, s in task_states.items() if s != "success"}
        raise DagRunFailedError(
            f"DAG {dag_id} run {dag_run.run_id} ended {outcome.state}; tasks not successful: "
            f"{failed}. Task logs: {settings.airflow_home / 'logs'}",
            outcome,
        )
    return outcome


@dataclass(frozen=True)
class ChainStep:
    """One DAG of a chain run: its outcome (None when it could not run at all)."""

    dag_id: str
    outcome: DagRunOutcome | None
    seconds: float
    error: str | None = None  # why it failed

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def unexpected(self) -> bool:
        """Failed for a reason other than the departments' deliveries.

        Rejected or blocked deliveries fail their ingestion DAG's last task, by design: they
        are the departments' problems; ingestion itself (task ``ingest``) still succeeded.
        """
        return self.failed and (
            self.outcome is None
            or not self.dag_id.startswith("mdm_ingest_")
            or self.outcome.task_states.get("ingest") != "success"
        )


def dag_conf(dag_id: str, until: str | None = None, force: bool = False) -> dict | None:
    """The run conf a DAG of the chain gets: ``until`` (YYYY-MM-DD) for ingestion DAGs,
    ``force`` for the build (build even when nothing arrived since the last build), ``until``
    as the credit profile's ``as_of`` day."""
    if until and dag_id.startswith("mdm_ingest_"):
        return {"until": until.replace("-", "")}
    if force and dag_id == "mdm_build":
        return {"force": True}
    if until and dag_id == "mdm_credit":
        return {"as_of": until}  # a replayed day's profile is computed for that day
    return None


def run_chain(
    settings: Settings, dag_ids: Sequence[str], until: str | None = None, force: bool = False
) -> Iterator[ChainStep]:
    """Run DAGs in order, yielding each one's step as it ends; a failed one does not stop
    the next (as under the scheduler). ``until`` and ``force``: :func:`dag_conf`."""
    # One parse of the DAG folder for the chain (parsing it per DAG cost seconds per DAG).
    with contextlib.redirect_stdout(sys.stderr):
        dags = load_dags(settings)
    with _dag_folder_synced_once():
        yield from _run_each(settings, dags, dag_ids, until, force)


@contextlib.contextmanager
def _dag_folder_synced_once() -> Iterator[None]:
    """``dag.test()`` (Airflow 3.3) parses the whole DAG folder and writes every DAG of it to
    the metadata database on every call (apache/airflow#64884: so that sibling DAGs exist),
    1.7 of the 2.7 s an ingestion DAG's run took, paid by nineteen of them a day. The folder
    does not change within a chain: its first run parses and writes, the others reuse."""
    from airflow.dag_processing import dagbag as dagbag_module

    original_bag, original_sync = dagbag_module.BundleDagBag, dagbag_module.sync_bag_to_db
    bags: dict[tuple[object, ...], object] = {}
    synced: set[tuple[object, ...]] = set()

    def bag_once(*args: object, **kwargs: object) -> object:
        key = (*args, *sorted(kwargs.items()))
        if key not in bags:
            bags[key] = original_bag(*args, **kwargs)  # type: ignore[arg-type]
        return bags[key]

    def sync_once(
        dagbag: object, bundle_name: str, bundle_version: str | None, **kwargs: object
    ) -> None:
        if (id(dagbag), bundle_name, bundle_version) in synced:
            return
        original_sync(dagbag, bundle_name, bundle_version, **kwargs)  # type: ignore[arg-type]
        synced.add((id(dagbag), bundle_name, bundle_version))

    dagbag_module.BundleDagBag = bag_once  # type: ignore[assignment,misc]
    dagbag_module.sync_bag_to_db = sync_once
    try:
        yield
    finally:
        dagbag_module.BundleDagBag, dagbag_module.sync_bag_to_db = original_bag, original_sync  # type: ignore[misc]


def _run_each(
    settings: Settings,
    dags: dict[str, object],
    dag_ids: Sequence[str],
    until: str | None,
    force: bool,
) -> Iterator[ChainStep]:
    for dag_id in dag_ids:
        started = time.monotonic()
        conf = dag_conf(dag_id, until, force)
        try:
            # Parsing the DAGs prints too: stdout stays the caller's.
            with contextlib.redirect_stdout(sys.stderr):
                outcome: DagRunOutcome | None = run_dag(settings, dag_id, conf, dags)
            error = None
        except DagRunFailedError as err:
            logger.error("%s", err)
            outcome, error = err.outcome, str(err)
        yield ChainStep(dag_id, outcome, time.monotonic() - started, error)
