"""``mdm``: the command line of the master-data platform.

Every command calls the same package functions that the DAG tasks call; the
CLI never re-implements a task. One module per command group (``database``,
``pipeline``, ``demo``, ``resolution``, ``access``, ``report``, ``certificates``, ``tools``,
``airflow_dbt``); a command parses its arguments, calls a function that returns
a result and prints it. This module builds the parser and runs a command.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from mdm import db
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
    tools,
)
from mdm.db import embedded
from mdm.settings import InsecureConfigurationError, Settings, load_settings

logger = logging.getLogger("mdm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdm",
        description="Master-data platform: natural-person and legal-person repositories.",
        epilog="Configuration: MDM_HOME (local state, default .mdm/), MDM_DATABASE_URL "
        "(use this PostgreSQL instead of the embedded one), MDM_LANDING_DIR.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
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
