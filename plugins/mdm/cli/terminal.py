"""What the operator sees: the command's lines and progress on the terminal, logs in a file.

Airflow (task logs under ``dag.test()``), dbt (its event log), the embedded server's
child processes and our own ``logging`` all write to file descriptors 1 and 2. A command
run as a process (``mdm run``, ``mdm demo``, ...) points both descriptors at a log file
under ``$MDM_HOME/logs`` for its duration and writes its own lines, through ``rich``, to
copies of the original descriptors: whoever prints, and however (a C library, a child
process), it lands in the file, and the terminal shows only what the command says.
``-v`` leaves the descriptors alone: logs on the terminal as well.

Called in-process (tests with ``capsys``, a notebook), nothing is redirected: the lines
go to ``sys.stdout`` as before.

Exit codes (:data:`EXIT_CODES`) are the same for every command.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rich.console import Console

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_DATA = 1  # a data problem: a delivery rejected, a DAG or check failed
EXIT_USAGE = 2  # wrong arguments (argparse uses 2 as well)
EXIT_DISAGREEMENT = 3  # two answers that should agree do not (resolve run --full)
EXIT_ENVIRONMENT = 4  # the database, configuration or a tool is missing or unsafe
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_DATA: "a data problem (a delivery rejected or blocked, a DAG, gate or check failed)",
    EXIT_USAGE: "usage (wrong or missing arguments)",
    EXIT_DISAGREEMENT: "disagreement (e.g. `resolve run --full` differs from the published ids)",
    EXIT_ENVIRONMENT: "environment (database unreachable, unsafe configuration, "
    "another run holds a lock)",
}
# Lines wider than a pipe's default 80 columns stay whole when the output is not a terminal.
PIPE_WIDTH = 200


@dataclass
class Terminal:
    """Where the command's own output goes. ``out``: its result (stdout); ``err``: one-line
    errors (stderr); ``progress``: progress lines (stdout, or stderr under ``--json`` so that
    stdout holds the JSON alone)."""

    out: Console
    err: Console
    log_path: Path | None = None
    json: bool = False
    verbose: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def progress(self) -> Console:
        return self.err if self.json else self.out

    @property
    def live(self) -> bool:
        """Bars and spinners only on a real terminal (a pipe or file gets the final lines)."""
        return self.progress.is_terminal


def _console(stream: IO[str] | None, stderr: bool = False) -> Console:
    console = Console(file=stream, stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


_current = Terminal(out=_console(None), err=_console(None, stderr=True))


def current() -> Terminal:
    return _current


def log_file(home: Path, command: str) -> Path:
    """A new log file for one command: ``$MDM_HOME/logs/<command>-<UTC time>-<pid>.log``."""
    folder = home / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return folder / f"{command}-{stamp}-{os.getpid()}.log"


def _is_process_stdout() -> bool:
    """True when sys.stdout/err are the process's own (not replaced by a test or caller)."""
    return sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__


@contextlib.contextmanager
def session(log_path: Path | None, verbose: bool, json: bool = False) -> Iterator[Terminal]:
    """The command's terminal for its duration; see the module docstring."""
    global _current
    previous = _current
    if log_path is None or verbose or not _is_process_stdout():
        _current = Terminal(
            out=_console(None), err=_console(None, stderr=True), log_path=log_path, json=json,
            verbose=verbose,
        )  # fmt: skip
        try:
            yield _current
        finally:
            _current = previous
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal_out = io.TextIOWrapper(
        io.FileIO(saved_out, "w", closefd=True), encoding="utf-8", line_buffering=True
    )
    terminal_err = io.TextIOWrapper(
        io.FileIO(saved_err, "w", closefd=True), encoding="utf-8", line_buffering=True
    )
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    _current = Terminal(
        out=_console(terminal_out), err=_console(terminal_err, stderr=True),
        log_path=log_path, json=json, verbose=verbose,
    )  # fmt: skip
    # The database's warnings (a data directory secured, a server that would not stop) are
    # the operator's to read now, not in the log file afterwards.
    database_warnings = logging.StreamHandler(terminal_err)
    database_warnings.setLevel(logging.WARNING)
    database_warnings.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger("mdm.db").addHandler(database_warnings)
    try:
        yield _current
    finally:
        logging.getLogger("mdm.db").removeHandler(database_warnings)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        terminal_out.flush()
        terminal_err.flush()
        os.dup2(terminal_out.fileno(), 1)
        os.dup2(terminal_err.fileno(), 2)
        terminal_out.close()
        terminal_err.close()
        _current = previous


def out(text: str = "") -> None:
    """A line of the command's output, as is (no markup: data may contain brackets)."""
    _current.out.print(text, markup=False, highlight=False)


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], indent: int = 3) -> None:
    """Rows under their column names, aligned by display width: a Chinese character takes
    two columns (str.ljust counts it as one). A column whose name starts with ">" is
    right-aligned (numbers)."""
    from rich.padding import Padding
    from rich.table import Table

    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 1), header_style="")
    for column in columns:
        right = column.startswith(">")
        grid.add_column(column.removeprefix(">"), justify="right" if right else "left")
    for row in rows:
        grid.add_row(*("" if value is None else str(value) for value in row))
    _current.out.print(
        Padding(grid, (0, 0, 0, indent), expand=False), markup=False, highlight=False
    )


def write_json(document: object) -> None:
    """A JSON document alone on the command's stdout (``--json``)."""
    import json

    stream = _current.out.file
    stream.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
    stream.flush()


def progress_line(text: str) -> None:
    _current.progress.print(text, markup=False, highlight=False)


def error_line(text: str) -> None:
    """A one-line error with what to do, on stderr (the terminal, never only the log)."""
    _current.err.print(text, markup=False, highlight=False)


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner with the elapsed time while a long step runs (terminal only)."""
    if not _current.live:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=_current.progress,
        transient=True,
    ) as bar:
        bar.add_task(message, total=None)
        yield


class ChainBar:
    """A bar over a chain of steps (DAGs), with the running one named; terminal only."""

    def __init__(self, title: str, total: int) -> None:
        self.title = title
        self.total = total
        self._progress: Any = None  # rich.progress.Progress, imported only on a terminal
        self._task: Any = None

    def __enter__(self) -> ChainBar:
        if _current.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=_current.progress,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.title, total=self.total)
        return self

    def running(self, name: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{self.title}: {name}")

    def advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def line(self, text: str) -> None:
        """A line above the bar (it stays; the bar is gone at the end)."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            progress_line(text)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def configure_logging(verbose: bool, log_path: Path | None) -> None:
    """Our log lines go to stderr: the log file while a session redirects it, the terminal
    with ``-v`` (and then the log file as well). Like ``logging.basicConfig``, it adds no
    stream handler when the root logger has one (a caller's, a test's)."""
    from mdm.connections import RedactingFilter

    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if not root.handlers:
        handlers.append(logging.StreamHandler(sys.stderr))
    if verbose and log_path is not None:
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    for handler in root.handlers:  # no password reaches the log, whoever logs
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for noisy in ("great_expectations", "sqlalchemy", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# Exceptions by class name (module.qualname along the MRO: nothing is imported to match).
_ENVIRONMENT_ERRORS = {
    "mdm.db.DatabaseUnavailableError": "is the database running? `mdm db status`, MDM_DATABASE_URL",
    "mdm.db.embedded.EmbeddedDatabaseError": "see the log; `mdm db stop` then `mdm db start`",
    "mdm.settings.InsecureConfigurationError": "fix the configuration named above",
    "mdm.db.migrate.MigrationError": "the warehouse schema could not be migrated: see the log",
    "mdm.publish.BuildLockedError": "another build holds the lock: wait for it, then rerun",
    "mdm.publish.PublishLockTimeoutError": "another publish holds the lock: wait, then rerun",
    "mdm.ingest.errors.SourceUnavailableError": "the front-end database or landing zone is "
    "unreachable: check AIRFLOW_CONN_FRONTEND_DB / MDM_LANDING_DIR",
    "psycopg.OperationalError": "the database refused or dropped the connection: `mdm db status`",
}
_DATA_ERRORS = {
    "mdm.orchestration.DagRunFailedError": "the task logs say why (path above); fix, then rerun",
    "mdm.publish.PublishBlockedError": "the publish gate failed: see ops.validation_result",
    "mdm.transform.DbtBuildError": "a dbt model or test failed: see the log",
    "mdm.ingest.errors.DeliveryRejectedError": "the department must re-deliver (ops.delivery)",
    "mdm.access.sharing.ShareRefusedError": "the grant was refused: see the reason",
}


def _class_names(err: BaseException) -> list[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(err).__mro__]


def classify(err: BaseException) -> tuple[int, str]:
    """The exit code of an exception that ended a command, and what to do about it."""
    for name in _class_names(err):
        if name in _ENVIRONMENT_ERRORS:
            return EXIT_ENVIRONMENT, _ENVIRONMENT_ERRORS[name]
        if name in _DATA_ERRORS:
            return EXIT_DATA, _DATA_ERRORS[name]
    return EXIT_DATA, "unexpected: the traceback is in the log; rerun with -v to see it here"


def one_line(err: BaseException, limit: int = 300) -> str:
    """The first line of an error's message, shortened: the log has the rest."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
