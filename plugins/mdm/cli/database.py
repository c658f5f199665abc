"""``mdm db``: the database server (embedded, or the one MDM_DATABASE_URL names)."""

from __future__ import annotations

import argparse

from mdm import db
from mdm.cli.common import out
from mdm.db import embedded
from mdm.settings import Settings

DATABASE_ROLES = ("warehouse", "airflow", "frontend")


def _database_name(settings: Settings, role: str) -> str:
    return {
        "warehouse": settings.warehouse_db,
        "airflow": settings.airflow_db,
        "frontend": settings.frontend_db,
    }[role]


def cmd_db_start(settings: Settings, args: argparse.Namespace) -> int:
    out(db.prepare_database(settings))
    out(db.display_url(settings, settings.warehouse_db))
    return 0


def cmd_db_stop(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.uses_embedded_database:
        out("MDM_DATABASE_URL is set: the external server is not ours to stop")
        return 0
    out("stopped" if embedded.stop(settings) else "not running")
    return 0


def cmd_db_status(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.uses_embedded_database:
        try:
            out(db.ensure_server(settings))
        except db.DatabaseUnavailableError as err:
            out(str(err))
            return 1
        return 0
    info = embedded.status(settings)
    if info is None:
        out(f"not running (MDM_HOME={settings.home})")
        return 1
    out(f"running: pid {info.pid}, {info.host}:{info.port}, data {info.pgdata}")
    return 0


def cmd_db_url(settings: Settings, args: argparse.Namespace) -> int:
    database = _database_name(settings, args.database)
    show = args.show_password
    out(db.server_url(settings, database) if show else db.display_url(settings, database))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
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
