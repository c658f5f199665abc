"""``mdm report``: the data-quality scorecard and its quarterly HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from mdm import db
from mdm.cli.common import out, run_id, warehouse
from mdm.settings import Settings


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import build, report

    db.prepare_database(settings)
    build.build_scorecard(settings, warehouse(settings), run_id("cli__report"))
    path = report.write_report(warehouse(settings), args.out or settings.reports_dir, args.quarter)
    out(f"written {path}")
    return 0


def add_report(commands: argparse._SubParsersAction) -> None:
    report_parser = commands.add_parser(
        "report", help="the data-quality scorecard and its quarterly HTML report"
    )
    report_parser.add_argument("--quarter", help="e.g. 2026Q4 (default: the latest)")
    report_parser.add_argument("--out", type=Path, help="folder (default $MDM_SHARED_DIR/reports)")
    report_parser.set_defaults(handler=cmd_report)
