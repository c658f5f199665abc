"""What every DAG of the platform shares (docs/adr/0024): an owner and retries, a time limit
on every task (``execution_timeout``), the warehouse pool, and a mail to the operators when a
run fails (``on_failure_callback``) or is still running at its deadline (``deadline``).

Imported by the DAG files only (it imports ``airflow.sdk``); the mail itself is
:mod:`mdm.alerts`, configured by environment when it is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from mdm import alerts
from mdm.settings import WAREHOUSE_POOL

OWNER = "mdm-platform"
# Time limits per kind of DAG: a task running longer is stopped (and retried, then failed,
# which mails). Sized from docs/capacity.md (1M persons: a build task ~8 min) with room for a
# province; the deadline of a run is longer than its tasks' limits together need in practice.
TASK_TIMEOUT = {
    "platform": dt.timedelta(minutes=30),
    "ingest": dt.timedelta(hours=2),
    "build": dt.timedelta(hours=6),
    "after_publish": dt.timedelta(hours=2),
}
RUN_DEADLINE = {
    "platform": dt.timedelta(hours=1),
    "ingest": dt.timedelta(hours=3),
    "build": dt.timedelta(hours=12),
    "after_publish": dt.timedelta(hours=4),
}


class MailOnFailure(BaseNotifier):
    """A failed DAG run mailed to ``MDM_ALERT_TO`` (:func:`mdm.alerts.notify_dag_failure`)."""

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render; the DAG in a callback's context may be a serialized one,
        which has no template environment (``dag.test()``)."""

    def notify(self, context: Any) -> None:
        alerts.notify_dag_failure(context)


def default_args(kind: str, retries: int, retry_minutes: int = 5) -> dict[str, Any]:
    import pendulum

    return {
        "owner": OWNER,
        "retries": retries,
        "retry_delay": pendulum.duration(minutes=retry_minutes),
        "execution_timeout": TASK_TIMEOUT[kind],
        # Every task of our DAGs reads or writes the warehouse, or is seconds long.
        "pool": WAREHOUSE_POOL,
    }


def run_alerts(kind: str) -> dict[str, Any]:
    """The DAG arguments that mail the operators: a failed run, a missed deadline."""
    return {
        "on_failure_callback": MailOnFailure(),
        "deadline": DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=RUN_DEADLINE[kind],
            callback=AsyncCallback(alerts.deadline_missed),
        ),
    }
