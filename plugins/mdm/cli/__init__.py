"""``mdm``: the command line of the master-data platform.

Every command calls the same package functions that the DAG tasks call; the
CLI never re-implements a task. One module per command group (``database``,
``pipeline``, ``demo``, ``resolution``, ``access``, ``report``, ``certificates``, ``tools``,
``airflow_dbt``); a command parses its arguments, calls a function that returns
a result and prints it. This module builds the parser and runs a command: its
output on the terminal, everyone's logs in a file (``terminal``), an error as
one line with what to do and an exit code of :data:`terminal.EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from mdm import __version__
from mdm.cli import (
    access,
    airflow_dbt,
    certificates,
    correction,
    credit,
    database,
    demo,
    opening,
    pipeline,
    report,
    resolution,
    terminal,
    tools,
)
from mdm.settings import Settings, load_settings

logger = logging.getLogger("mdm")

# Commands that hand the terminal to another program (its output is the point).
PASSTHROUGH = frozenset({"airflow", "dbt"})
# Commands whose log file is named at the start (they run long and log a lot).
ANNOUNCE_LOG = frozenset({"run", "demo", "generate", "ingest", "bench"})
# Commands with subcommands (named with theirs in error lines).
GROUPS = frozenset({"db", "resolve", "steward", "share", "access", "correction", "credit"})
KEEP_LOG_FILES = 100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdm",
        description="Master-data platform: natural-person and legal-person repositories.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="configuration: MDM_HOME (local state, default .mdm/), MDM_DATABASE_URL\n"
        "  (use this PostgreSQL instead of the embedded one), MDM_LANDING_DIR.\n"
        "logs: Airflow's, dbt's and ours go to a file under $MDM_HOME/logs; -v shows them here.\n"
        "exit codes:\n"
        + "\n".join(f"  {code}  {what}" for code, what in terminal.EXIT_CODES.items()),
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging, also on the terminal"
    )
    parser.add_argument("--version", action="version", version=f"mdm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    database.add_commands(commands)
    tools.add_generate(commands)
    pipeline.add_ingest(commands)
    pipeline.add_run(commands)
    commands.add_parser(
        "demo",
        help="set everything up and run the pipeline end to end",
        description="Start the database, run the daily chain and show what it produced.",
    ).set_defaults(handler=demo.cmd_demo)
    tools.add_bench(commands)
    airflow_dbt.add_airflow(commands)
    airflow_dbt.add_dbt(commands)
    resolution.add_resolve(commands)
    report.add_report(commands)
    certificates.add_certificates(commands)
    resolution.add_explain(commands)
    resolution.add_steward(commands)
    correction.add_correction(commands)
    tools.add_evaluate(commands)
    access.add_share(commands)
    access.add_access(commands)
    credit.add_credit(commands)
    opening.add_catalogue(commands)
    opening.add_open(commands)
    return parser


def _prune_logs(folder: os.PathLike[str] | str, keep: int = KEEP_LOG_FILES) -> None:
    from pathlib import Path

    files = sorted(Path(folder).glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def _label(argv: Sequence[str], command: str) -> str:
    """The command as typed, for error lines: ``db start``, ``credit explain``, ``run``."""
    words = [a for a in argv if not a.startswith("-")]
    if command in GROUPS and len(words) >= 2 and words[0] == command:
        return " ".join(words[:2])
    return command


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)  # usage errors: exit code 2, from argparse
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    command = _label(argv, args.command)
    try:
        settings = load_settings()
    except (ValueError, RuntimeError) as err:  # a setting that cannot be used
        terminal.configure_logging(args.verbose, None)
        terminal.error_line(f"mdm {command}: {terminal.one_line(err)}")
        return terminal.EXIT_ENVIRONMENT
    passthrough = args.command in PASSTHROUGH
    log_path = None if passthrough else terminal.log_file(settings.home, args.command)
    with terminal.session(log_path, args.verbose, json=getattr(args, "json", None) is True) as term:
        terminal.configure_logging(args.verbose, log_path)
        if log_path is not None and args.command in ANNOUNCE_LOG:
            shown = "" if args.verbose else " (-v shows them here)"
            terminal.progress_line(f"logs: {log_path}{shown}")
        handler: Callable[[Settings, argparse.Namespace], int] = args.handler
        try:
            code = handler(settings, args)
        except KeyboardInterrupt:
            terminal.error_line(f"mdm {command}: interrupted")
            return 130
        except Exception as err:
            code, hint = terminal.classify(err)
            logger.exception("mdm %s failed", command)
            where = f" (log: {log_path})" if log_path and not term.verbose else ""
            terminal.error_line(f"mdm {command}: {terminal.one_line(err)} — {hint}{where}")
        else:
            failed = code not in (terminal.EXIT_OK, terminal.EXIT_USAGE)
            if failed and log_path is not None and args.command not in ANNOUNCE_LOG:
                terminal.error_line(f"log: {log_path}")
    if log_path is not None:
        announced = args.command in ANNOUNCE_LOG
        if not announced and log_path.exists() and log_path.stat().st_size == 0:
            log_path.unlink()
        _prune_logs(log_path.parent)
    return code
