"""What every command module shares: output for the user, run ids, the warehouse."""

from __future__ import annotations

import time

from mdm import db
from mdm.cli import terminal
from mdm.connections import ConnParams, params_from_url
from mdm.settings import Settings


def out(text: str = "") -> None:
    """Command output for the user (the terminal's stdout), as opposed to log lines (the
    log file; stderr with -v)."""
    terminal.out(text)


def run_id(prefix: str) -> str:
    """A run id naming the command and the moment, e.g. ``cli__20261101T080000``."""
    return f"{prefix}__{time.strftime('%Y%m%dT%H%M%S')}"


def warehouse(settings: Settings) -> ConnParams:
    return params_from_url(db.warehouse_url(settings))
