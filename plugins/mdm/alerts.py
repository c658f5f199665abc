"""Mail to the operators when a DAG run fails or misses its deadline (docs/adr/0024).

Configured by environment, read when a notification is sent (never at DAG parse time):

- ``MDM_ALERT_TO``: comma-separated recipients; unset, nothing is sent (the notification is
  only logged);
- ``MDM_ALERT_SMTP``: ``host:port`` of the mail relay (default ``localhost:25``);
- ``MDM_ALERT_FROM`` (default ``mdm-platform@localhost``);
- ``MDM_ALERT_SMTP_USER`` / ``MDM_ALERT_SMTP_PASSWORD`` (optional login),
  ``MDM_ALERT_SMTP_STARTTLS`` (``true``: STARTTLS before the login).

A message names the DAG, the run, the tasks that failed and the first line of the error,
redacted of connection secrets: never a value of a record (the departments' data stays in
the warehouse).
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_SMTP = "localhost:25"
DEFAULT_SENDER = "mdm-platform@localhost"
ERROR_CHARS = 300


@dataclass(frozen=True)
class AlertSettings:
    recipients: tuple[str, ...]
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False


def alert_settings(environ: Mapping[str, str] | None = None) -> AlertSettings | None:
    """The mail settings, or None when no recipient is configured."""
    env = os.environ if environ is None else environ
    recipients = tuple(r.strip() for r in env.get("MDM_ALERT_TO", "").split(",") if r.strip())
    if not recipients:
        return None
    host, _, port = (env.get("MDM_ALERT_SMTP") or DEFAULT_SMTP).rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"MDM_ALERT_SMTP={env.get('MDM_ALERT_SMTP')!r}: expected host:port")
    return AlertSettings(
        recipients=recipients,
        host=host,
        port=int(port),
        sender=env.get("MDM_ALERT_FROM") or DEFAULT_SENDER,
        user=env.get("MDM_ALERT_SMTP_USER") or None,
        password=env.get("MDM_ALERT_SMTP_PASSWORD") or None,
        starttls=(env.get("MDM_ALERT_SMTP_STARTTLS", "").lower() in ("1", "true", "yes")),
    )


def _first_line(text: str | None) -> str:
    from mdm.connections import redact_url

    if not text:
        return ""
    line = redact_url(str(text)).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def failure_message(
    dag_id: str, run_id: str, failed_tasks: Sequence[str], error: str | None
) -> tuple[str, str]:
    """(subject, body) of the mail for a failed DAG run."""
    # Short: a long subject is folded, and the run id is in the body.
    subject = f"[mdm] {dag_id} failed"
    body = "\n".join(
        [
            f"DAG run {run_id} of {dag_id} failed.",
            f"Tasks that failed: {', '.join(failed_tasks) or 'none (the run itself)'}",
            f"Error: {_first_line(error) or 'see the task logs'}",
            "",
            "What to do: open the run in the Airflow UI (Grid view, the failed task's log).",
            "Ingestion DAGs fail on purpose when a delivery is rejected or blocked: the log",
            "and ops.delivery say which and what the department must re-deliver.",
        ]
    )
    return subject, body + "\n"


def deadline_message(dag_id: str, run_id: str, deadline: str) -> tuple[str, str]:
    """(subject, body) of the mail for a DAG run still unfinished at its deadline."""
    subject = f"[mdm] {dag_id} missed its deadline"
    body = (
        f"DAG run {run_id} of {dag_id} had not finished by {deadline}.\n"
        "What to do: look at the running task in the Airflow UI (a task waiting for the\n"
        "warehouse pool, a long dbt build, a stuck load); each task stops at its\n"
        "execution_timeout.\n"
    )
    return subject, body


def send(settings: AlertSettings, subject: str, body: str, timeout: float = 30) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)


def notify(subject: str, body: str, environ: Mapping[str, str] | None = None) -> bool:
    """Mail it when recipients are configured; return whether it was sent."""
    settings = alert_settings(environ)
    logger.warning("%s", subject)
    if settings is None:
        logger.info("MDM_ALERT_TO is not set: notification not sent")
        return False
    send(settings, subject, body)
    logger.info("notification sent to %d recipient(s)", len(settings.recipients))
    return True


def notify_dag_failure(context: Mapping[str, Any]) -> bool:
    """A DAG's ``on_failure_callback``: which run, which task, why. Airflow passes the
    template context of the task that failed the run (``ti``) and a ``reason``."""
    dag = context.get("dag")
    dag_run = context.get("dag_run")
    ti = context.get("ti") or context.get("task_instance")
    dag_id = str(getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", None) or "?")
    run_id = str(getattr(dag_run, "run_id", None) or context.get("run_id") or "?")
    task_id = getattr(ti, "task_id", None)
    failed = [str(task_id)] if task_id else []
    reason = context.get("exception") or context.get("reason")
    return notify(*failure_message(dag_id, run_id, failed, None if reason is None else str(reason)))


async def deadline_missed(context: Mapping[str, Any] | None = None, **_: Any) -> bool:
    """The DAGs' deadline callback (Airflow runs it in the triggerer)."""
    import asyncio

    run = dict((context or {}).get("dag_run") or {})
    deadline = str(((context or {}).get("deadline") or {}).get("deadline_time", "?"))
    subject, body = deadline_message(
        str(run.get("dag_id", "?")),
        str(run.get("dag_run_id") or run.get("run_id") or "?"),
        deadline,
    )
    return await asyncio.to_thread(notify, subject, body)
